#include "core/task_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace kiln {
namespace {

TEST(TaskQueue, RunsTasksInPostedOrderOnOneThread) {
  std::vector<int> order;
  {
    TaskQueue q(1);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(q.Post([&order, i] { order.push_back(i); }));
  }  // the destructor runs what was posted
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(TaskQueue, RunsOffTheCallingThread) {
  TaskQueue q(2);
  std::promise<std::thread::id> ran_on;
  q.Post([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
}

TEST(TaskQueue, TasksMayPostMoreAndAllRunBeforeDestructionEnds) {
  std::atomic<int> ran{0};
  std::promise<void> second_posted;
  {
    TaskQueue q(2);
    q.Post([&] {
      ++ran;
      q.Post([&] { ++ran; });
      second_posted.set_value();
    });
    second_posted.get_future().wait();
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(TaskQueue, ManyProducersAllTasksRun) {
  std::atomic<int> ran{0};
  {
    TaskQueue q(3);
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
      producers.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) q.Post([&] { ++ran; });
      });
    }
    for (auto& p : producers) p.join();
  }
  EXPECT_EQ(ran.load(), 4000);
}

}  // namespace
}  // namespace kiln
