#include "model/repository.h"

#include <gtest/gtest.h>

#include "core/guid.h"
#include "model/meta.h"
#include "model/testing/generate.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

Patch Ops(std::vector<PatchOp> ops) {
  Patch p;
  p.ops = std::move(ops);
  return p;
}

class RepositoryTest : public ::testing::Test {
 protected:
  RepositoryTest() : repo(store, clock) {
    auto c = repo.CreateProject("digits", "a classifier", "ada");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    initial = *c;
  }

  CommitRequest Req(std::string branch = "main") {
    clock.Advance(1000);
    return CommitRequest{"digits", std::move(branch), "ada", "edit", std::nullopt};
  }

  Result<Digest> AddFolder(const std::string& guid, std::string branch = "main") {
    return repo.Commit(Req(std::move(branch)),
                       Ops({PatchOp::Create(guid, RootGuid(), MetaGuid("Folder"))}));
  }

  MemoryStore store;
  FakeClock clock;
  Repository repo;
  Digest initial;
};

TEST_F(RepositoryTest, Projects) {
  EXPECT_EQ(repo.CreateProject("digits", "", "ada").status().code(), Code::kAlreadyExists);
  for (const char* bad : {"", ".hidden", "a b", "x/y", "é"}) {
    EXPECT_EQ(repo.CreateProject(bad, "", "ada").status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(repo.CreateProject(std::string(65, 'a'), "", "a").status().code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(repo.CreateProject("sky-2.0_x", "astronomy", "bob").ok());
  auto list = repo.ListProjects();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "digits");
  EXPECT_EQ((*list)[0].description, "a classifier");
  EXPECT_EQ((*list)[0].created_ms, clock.NowMillis());
  ASSERT_TRUE(repo.DeleteProject("sky-2.0_x").ok());
  EXPECT_EQ(repo.ListProjects()->size(), 1u);
  EXPECT_EQ(repo.GetProject("sky-2.0_x").status().code(), Code::kNotFound);
  EXPECT_EQ(repo.DeleteProject("sky-2.0_x").code(), Code::kNotFound);

  auto tree = repo.LoadTree(initial);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE((*tree)->Find(MetaGuid("Pipeline")));
}

TEST_F(RepositoryTest, ForkSharesTheTreeAndStartsItsOwnHistory) {
  std::string f = NewGuid();
  auto c = AddFolder(f);
  ASSERT_TRUE(c.ok());
  auto fork = repo.ForkProject("digits-fork", "a copy", "bob", "digits", *c);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  EXPECT_EQ(*repo.BranchHead("digits-fork", "main"), *fork);
  auto commit = repo.ReadCommit(*fork);
  ASSERT_TRUE(commit.ok());
  EXPECT_TRUE(commit->parents.empty());
  EXPECT_EQ(commit->root, repo.ReadCommit(*c)->root);  // shared, not copied
  EXPECT_EQ(commit->author, "bob");
  EXPECT_EQ(repo.GetProject("digits-fork")->description, "a copy");
  // Edits stay apart.
  ASSERT_TRUE(AddFolder(NewGuid()).ok());
  EXPECT_EQ(*repo.BranchHead("digits-fork", "main"), *fork);
  // A taken name or a bad one creates nothing.
  EXPECT_EQ(repo.ForkProject("digits", "", "bob", "digits", *c).status().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(repo.ForkProject("a/b", "", "bob", "digits", *c).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(repo.ListProjects()->size(), 2u);
}

TEST_F(RepositoryTest, CommitMovesTheBranch) {
  std::string f = NewGuid();
  auto c = AddFolder(f);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*repo.BranchHead("digits", "main"), *c);
  auto commit = repo.ReadCommit(*c);
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->parents, std::vector<Digest>{initial});
  EXPECT_EQ(commit->author, "ada");
  EXPECT_EQ(commit->time_ms, clock.NowMillis());
  auto tree = repo.LoadTree(*c);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE((*tree)->Find(f));
  EXPECT_EQ(*(*tree)->RootDigest(), commit->root);
  // The old commit still has the old tree.
  EXPECT_FALSE((*repo.LoadTree(initial))->Find(f));
}

TEST_F(RepositoryTest, RejectedPatchCommitsNothing) {
  Digest head = *repo.BranchHead("digits", "main");
  auto c =
      repo.Commit(Req(), Ops({PatchOp::Create(NewGuid(), RootGuid(), MetaGuid("Connection"))}));
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(*repo.BranchHead("digits", "main"), head);
  // The cached head tree was restored: the next commit works from it.
  std::string f = NewGuid();
  ASSERT_TRUE(AddFolder(f).ok());
  auto tree = repo.LoadTree(*repo.BranchHead("digits", "main"));
  EXPECT_EQ((*tree)->size(), 2 + CoreMetaNames().size() + 1);
}

TEST_F(RepositoryTest, StaleExpectedHeadIsAConflict) {
  auto c1 = AddFolder(NewGuid());
  ASSERT_TRUE(c1.ok());
  CommitRequest req = Req();
  req.expected_head = initial;  // stale
  auto c2 = repo.Commit(req, Ops({PatchOp::Create(NewGuid(), RootGuid(), std::nullopt)}));
  EXPECT_EQ(c2.status().code(), Code::kConflict);
  EXPECT_EQ(*repo.BranchHead("digits", "main"), *c1);
  req.expected_head = *c1;
  EXPECT_TRUE(repo.Commit(req, Ops({})).ok());
}

TEST_F(RepositoryTest, ConcurrentWriterLosesCompareAndSwap) {
  // Two repositories on one store: one commits on a tree it holds, the
  // other moves the branch first.
  Repository other(store, clock);
  auto tree = Tree::Load(store, repo.ReadCommit(initial)->root);
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(
      other.Commit(Req(), Ops({PatchOp::Create(NewGuid(), RootGuid(), std::nullopt)})).ok());
  WriteBatch unused;
  Digest before = *tree->Write(&unused);
  auto c = repo.CommitOnTree(Req(), *tree, Ops({PatchOp::SetAttr(RootGuid(), "x", 1)}));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(*tree->RootDigest(), before);  // unchanged
}

TEST_F(RepositoryTest, CommitOnTreeKeepsTheCallersTree) {
  auto tree = Tree::Load(store, repo.ReadCommit(initial)->root);
  ASSERT_TRUE(tree.ok());
  for (int i = 0; i < 3; ++i) {
    auto c = repo.CommitOnTree(Req(), *tree, Ops({PatchOp::SetAttr(RootGuid(), "n", i)}));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(*tree->RootDigest(), repo.ReadCommit(*c)->root);
  }
}

TEST_F(RepositoryTest, BranchesAndTags) {
  auto c1 = AddFolder(NewGuid());
  ASSERT_TRUE(repo.CreateBranch("digits", "feature/x", initial).ok());
  EXPECT_EQ(repo.CreateBranch("digits", "feature/x", *c1).code(), Code::kAlreadyExists);
  EXPECT_EQ(repo.CreateBranch("digits", "../x", *c1).code(), Code::kInvalidArgument);
  EXPECT_EQ(repo.CreateBranch("digits", "y", Digest::Of("no commit")).code(), Code::kNotFound);
  auto branches = repo.ListBranches("digits");
  ASSERT_TRUE(branches.ok());
  ASSERT_EQ(branches->size(), 2u);
  EXPECT_EQ((*branches)[0].first, "feature/x");
  EXPECT_EQ((*branches)[0].second, initial);

  ASSERT_TRUE(repo.CreateTag("digits", "v1", *c1).ok());
  ASSERT_TRUE(repo.CreateTag("digits", "run/42", initial).ok());
  // Tags are immutable.
  EXPECT_EQ(repo.CreateTag("digits", "v1", initial).code(), Code::kAlreadyExists);
  EXPECT_EQ(*repo.Resolve("digits", "v1"), *c1);
  EXPECT_EQ(repo.ListTags("digits")->size(), 2u);
  ASSERT_TRUE(repo.DeleteTag("digits", "v1").ok());
  EXPECT_EQ(repo.Resolve("digits", "v1").status().code(), Code::kNotFound);
  ASSERT_TRUE(repo.DeleteBranch("digits", "feature/x").ok());
  EXPECT_EQ(repo.DeleteBranch("digits", "feature/x").code(), Code::kNotFound);
}

TEST_F(RepositoryTest, ResolveRefs) {
  auto c1 = AddFolder(NewGuid());
  ASSERT_TRUE(repo.CreateTag("digits", "run/7", initial).ok());
  EXPECT_EQ(*repo.Resolve("digits", "main"), *c1);
  EXPECT_EQ(*repo.Resolve("digits", "heads/main"), *c1);
  EXPECT_EQ(*repo.Resolve("digits", "run/7"), initial);
  EXPECT_EQ(*repo.Resolve("digits", "tags/run/7"), initial);
  EXPECT_EQ(*repo.Resolve("digits", c1->Hex()), *c1);
  EXPECT_EQ(*repo.Resolve("digits", c1->Hex().substr(0, 8)), *c1);
  EXPECT_EQ(*repo.Resolve("digits", initial.Hex().substr(0, 6)), initial);
  EXPECT_EQ(repo.Resolve("digits", c1->Hex().substr(0, 5)).status().code(), Code::kNotFound);
  EXPECT_EQ(repo.Resolve("digits", "nope").status().code(), Code::kNotFound);
  EXPECT_EQ(repo.Resolve("digits", std::string(64, '0')).status().code(), Code::kNotFound);
  EXPECT_EQ(repo.Resolve("nope", "main").status().code(), Code::kNotFound);
}

// docs/access.md, "Isolation between projects": a digest is a ref of a
// project only when the commit is the project's own.
TEST_F(RepositoryTest, ACommitOfAnotherProjectIsNotARef) {
  ASSERT_TRUE(repo.CreateProject("secret", "", "eve").ok());
  clock.Advance(1000);
  auto theirs = repo.Commit({"secret", "main", "eve", "edit", std::nullopt},
                            Ops({PatchOp::Create(NewGuid(), RootGuid(), MetaGuid("Folder"))}));
  ASSERT_TRUE(theirs.ok());
  auto ours = AddFolder(NewGuid());
  ASSERT_TRUE(ours.ok());

  Result<Digest> full = repo.Resolve("digits", theirs->Hex());
  EXPECT_EQ(full.status().code(), Code::kNotFound);
  // The same answer as for a digest that does not exist (no oracle).
  std::string missing = std::string(64, 'a');
  EXPECT_EQ(full.status().message(), repo.Resolve("digits", theirs->Hex()).status().message());
  EXPECT_EQ(repo.Resolve("digits", missing).status().message(),
            "no branch, tag or commit '" + missing + "' in digits");
  EXPECT_EQ(repo.Resolve("digits", theirs->Hex().substr(0, 10)).status().code(), Code::kNotFound);
  EXPECT_FALSE(*repo.ContainsCommit("digits", *theirs));
  EXPECT_TRUE(*repo.ContainsCommit("secret", *theirs));
  EXPECT_TRUE(*repo.ContainsCommit("digits", *ours));
  EXPECT_TRUE(*repo.ContainsCommit("digits", initial));
  // Kept neither as a branch nor as a tag, nor merged in.
  EXPECT_EQ(repo.CreateBranch("digits", "stolen", *theirs).code(), Code::kNotFound);
  EXPECT_EQ(repo.CreateTag("digits", "stolen", *theirs).code(), Code::kNotFound);
  MergeOutcome out;
  EXPECT_EQ(repo.Merge(Req(), theirs->Hex(), &out).code(), Code::kNotFound);
  EXPECT_EQ(repo.ListBranches("digits")->size(), 1u);
  // Its own history still resolves, in full and abbreviated.
  EXPECT_EQ(*repo.Resolve("digits", ours->Hex()), *ours);
  EXPECT_EQ(*repo.Resolve("digits", ours->Hex().substr(0, 7)), *ours);
  EXPECT_EQ(*repo.Resolve("secret", theirs->Hex().substr(0, 7)), *theirs);
}

TEST_F(RepositoryTest, CommitsMadeByAnotherProcessAreFoundOnAMiss) {
  ASSERT_TRUE(repo.Resolve("digits", initial.Hex()).ok());  // the index is built
  Repository other(store, clock);                           // another server on the store
  clock.Advance(1000);
  auto c = other.Commit(Req(), Ops({PatchOp::Create(NewGuid(), RootGuid(), MetaGuid("Folder"))}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*repo.Resolve("digits", c->Hex()), *c);
  EXPECT_EQ(*repo.Resolve("digits", c->Hex().substr(0, 8)), *c);
}

TEST_F(RepositoryTest, ADeletedBranchTakesItsOwnCommitsAlong) {
  ASSERT_TRUE(repo.CreateBranch("digits", "idea", initial).ok());
  auto c = AddFolder(NewGuid(), "idea");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(repo.Resolve("digits", c->Hex()).ok());
  ASSERT_TRUE(repo.DeleteBranch("digits", "idea").ok());
  EXPECT_EQ(repo.Resolve("digits", c->Hex()).status().code(), Code::kNotFound);
  EXPECT_TRUE(repo.Resolve("digits", initial.Hex()).ok());
  // A project deleted and made anew under its name starts a history of its own.
  ASSERT_TRUE(repo.DeleteProject("digits").ok());
  clock.Advance(1000);
  ASSERT_TRUE(repo.CreateProject("digits", "", "ada").ok());
  EXPECT_EQ(repo.Resolve("digits", initial.Hex()).status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, History) {
  std::vector<Digest> main{initial};
  for (int i = 0; i < 3; ++i) main.push_back(*AddFolder(NewGuid()));
  ASSERT_TRUE(repo.CreateBranch("digits", "side", main[1]).ok());
  Digest s1 = *AddFolder(NewGuid(), "side");
  MergeOutcome out;
  ASSERT_TRUE(repo.Merge(Req(), "side", &out).ok());
  Digest merge = *out.commit;

  auto first = repo.Log(merge, {.first_parent = true, .limit = 100});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 5u);
  EXPECT_EQ((*first)[0].digest, merge);
  EXPECT_EQ((*first)[1].digest, main[3]);
  EXPECT_EQ((*first)[4].digest, initial);

  auto all = repo.Log(merge);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].digest, merge);
  EXPECT_EQ((*all)[1].digest, s1);  // newest first
  EXPECT_EQ(all->back().digest, initial);
  // Every commit comes before its parents.
  for (size_t i = 0; i < all->size(); ++i) {
    for (const Digest& p : (*all)[i].commit.parents) {
      bool later = false;
      for (size_t j = i + 1; j < all->size(); ++j) later |= (*all)[j].digest == p;
      EXPECT_TRUE(later);
    }
  }
  EXPECT_EQ(repo.Log(merge, {.limit = 2})->size(), 2u);
  EXPECT_TRUE(*repo.IsAncestor(initial, merge));
  EXPECT_FALSE(*repo.IsAncestor(merge, initial));
  EXPECT_EQ(*repo.MergeBase(main[3], s1), main[1]);
}

TEST_F(RepositoryTest, DiffOfCommits) {
  std::string f = NewGuid();
  Digest c1 = *AddFolder(f);
  auto ops = repo.Diff(initial, c1);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].kind, OpKind::kCreate);
  EXPECT_EQ((*ops)[0].guid, f);
  EXPECT_TRUE(repo.Diff(c1, c1)->empty());
}

TEST_F(RepositoryTest, CleanMerge) {
  std::string f = NewGuid(), g = NewGuid();
  ASSERT_TRUE(repo.Commit(Req(), Ops({PatchOp::Create(f, RootGuid(), MetaGuid("Folder"),
                                                      {{"name", "f"}, {"size", 1}})}))
                  .ok());
  Digest base = *repo.BranchHead("digits", "main");
  ASSERT_TRUE(repo.CreateBranch("digits", "side", base).ok());
  ASSERT_TRUE(repo.Commit(Req(), Ops({PatchOp::SetAttr(f, "name", "ours")})).ok());
  ASSERT_TRUE(repo.Commit(Req("side"), Ops({PatchOp::SetAttr(f, "size", 2),
                                            PatchOp::Create(g, f, MetaGuid("Folder"))}))
                  .ok());
  Digest ours = *repo.BranchHead("digits", "main");
  Digest theirs = *repo.BranchHead("digits", "side");
  MergeOutcome out;
  Status st = repo.Merge(Req(), "side", &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(out.commit);
  EXPECT_FALSE(out.up_to_date);
  EXPECT_EQ(*repo.BranchHead("digits", "main"), *out.commit);
  auto commit = repo.ReadCommit(*out.commit);
  EXPECT_EQ(commit->parents, (std::vector<Digest>{ours, theirs}));
  auto tree = repo.LoadTree(*out.commit);
  auto node = (*tree)->Find(f);
  EXPECT_EQ(node->Attr("name")->as_string(), "ours");
  EXPECT_EQ(node->Attr("size")->as_int(), 2);
  EXPECT_TRUE((*tree)->Find(g));
  // Merging again: nothing to do.
  ASSERT_TRUE(repo.Merge(Req(), "side", &out).ok());
  EXPECT_TRUE(out.up_to_date);
}

TEST_F(RepositoryTest, ConflictingMergeChangesNothing) {
  std::string f = NewGuid(), h = NewGuid();
  ASSERT_TRUE(
      repo.Commit(Req(), Ops({PatchOp::Create(f, RootGuid(), MetaGuid("Folder"), {{"name", "f"}}),
                              PatchOp::Create(h, RootGuid(), MetaGuid("Folder"))}))
          .ok());
  Digest base = *repo.BranchHead("digits", "main");
  ASSERT_TRUE(repo.CreateBranch("digits", "side", base).ok());
  ASSERT_TRUE(
      repo.Commit(Req(), Ops({PatchOp::SetAttr(f, "name", "ours"), PatchOp::SetAttr(h, "x", 1)}))
          .ok());
  ASSERT_TRUE(
      repo.Commit(Req("side"), Ops({PatchOp::SetAttr(f, "name", "theirs"), PatchOp::Delete(h)}))
          .ok());
  Digest head = *repo.BranchHead("digits", "main");
  MergeOutcome out;
  Status st = repo.Merge(Req(), "side", &out);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(*repo.BranchHead("digits", "main"), head);
  ASSERT_EQ(out.conflicts.size(), 2u);
  const MergeConflict* name = nullptr;
  const MergeConflict* exists = nullptr;
  for (const MergeConflict& c : out.conflicts) {
    if (c.field == "attrs/name") name = &c;
    if (c.field == "exists") exists = &c;
  }
  ASSERT_TRUE(name && exists);
  EXPECT_EQ(name->node, f);
  EXPECT_EQ(name->base->as_string(), "f");
  EXPECT_EQ(name->ours->as_string(), "ours");
  EXPECT_EQ(name->theirs->as_string(), "theirs");
  EXPECT_EQ(exists->node, h);
  EXPECT_EQ(exists->theirs->as_string(), "deleted");
}

TEST_F(RepositoryTest, GeneratedProjectCommits) {
  GeneratedProject g = GenerateProjectPatch({.nodes = 3000});
  auto c = repo.Commit(Req(), g.patch);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // An edit deep down writes the path to the root plus the commit object.
  auto before = store.object_count();
  auto c2 = repo.Commit(Req(), Ops({PatchOp::SetAttr(g.operations.back(), "name", "renamed")}));
  ASSERT_TRUE(c2.ok());
  auto tree = repo.LoadTree(*c2);
  size_t depth = 0;
  for (auto p = (*tree)->Find(g.operations.back())->parent(); p; p = p->parent()) ++depth;
  EXPECT_EQ(store.object_count() - before, depth + 1 + 1);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

TEST(RepositoryChain, PatchesBecomeChainedCommitsInOneWrite) {
  MemoryStore store;
  FakeClock clock;
  Repository repo(store, clock);
  ASSERT_TRUE(repo.CreateProject("p", "", "t").ok());
  Digest head = *repo.BranchHead("p", "main");
  auto loaded = repo.LoadTree(head);
  ASSERT_TRUE(loaded.ok());
  Tree tree = (*loaded)->Clone();
  std::string folder = NewGuid();
  Patch create{std::nullopt, "create", {PatchOp::Create(folder, RootGuid(), MetaGuid("Folder"))}};
  Patch bad{std::nullopt, "bad", {PatchOp::SetAttr(NewGuid(), "x", Value(1))}};
  Patch edit{std::nullopt, "edit", {PatchOp::SetAttr(folder, "name", Value("data"))}};
  std::vector<Repository::ChainItem> items{
      {&create, "ada", "create"}, {&bad, "bob", "bad"}, {&edit, "cy", "edit"}};
  auto results = repo.CommitChainOnTree("p", "main", head, tree, items);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 3u);
  ASSERT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[1].status().code(), Code::kNotFound);
  ASSERT_TRUE((*results)[2].ok());
  EXPECT_EQ(*repo.BranchHead("p", "main"), *(*results)[2]);
  auto first = repo.ReadCommit(*(*results)[0]);
  auto last = repo.ReadCommit(*(*results)[2]);
  EXPECT_EQ(first->parents, std::vector<Digest>{head});
  EXPECT_EQ(last->parents, std::vector<Digest>{*(*results)[0]});
  EXPECT_EQ(last->author, "cy");
  // Each commit's tree loads on its own.
  auto mid = repo.LoadTree(*(*results)[0]);
  ASSERT_TRUE(mid.ok());
  EXPECT_TRUE((*mid)->Find(folder).has_value());
  EXPECT_EQ((*repo.LoadTree(*(*results)[2]))->ToJsonString(), tree.ToJsonString());
  // A stale expected head changes nothing.
  Tree other = (*repo.LoadTree(head))->Clone();
  EXPECT_EQ(repo.CommitChainOnTree("p", "main", head, other, items).status().code(),
            Code::kConflict);
}

}  // namespace
}  // namespace kiln
