#include "provenance/lineage.h"

#include <unordered_map>

namespace kiln {

Result<LineageDirection> ParseLineageDirection(std::string_view name) {
  if (name == "up" || name.empty()) return LineageDirection::kUp;
  if (name == "down") return LineageDirection::kDown;
  if (name == "both") return LineageDirection::kBoth;
  return InvalidArgument("direction must be up, down or both, not '" + std::string(name) + "'");
}

const char* LineageDirectionName(LineageDirection direction) {
  switch (direction) {
    case LineageDirection::kUp:
      return "up";
    case LineageDirection::kDown:
      return "down";
    case LineageDirection::kBoth:
      return "both";
  }
  return "up";
}

namespace {

// One walk: the graph being built and the indexes that keep each artifact,
// job and snapshot in it once.
class Walk {
 public:
  Walk(RunsStore& runs, const LineageQuery& query) : runs_(runs) { graph_.query = query; }

  Result<LineageGraph> Run() {
    const LineageQuery& q = graph_.query;
    AddArtifact(q.artifact, 0);
    if (q.direction != LineageDirection::kDown) KILN_RETURN_IF_ERROR(Up());
    if (q.direction != LineageDirection::kUp) KILN_RETURN_IF_ERROR(Down());
    // How the project got what no job of it made (an upload, a fork…).
    for (LineageArtifact& a : graph_.artifacts) {
      if (!a.job.empty()) continue;
      KILN_ASSIGN_OR_RETURN(a.grant, runs_.GetGrant(q.project, a.digest));
    }
    return std::move(graph_);
  }

 private:
  // Levels 1, 2, … : the producer of each artifact of the frontier, and its inputs.
  Status Up() {
    std::vector<Digest> frontier{graph_.query.artifact};
    for (int64_t level = 1; !frontier.empty(); ++level) {
      std::vector<Digest> next;
      for (const Digest& d : frontier) {
        // The earliest: the job that first made these bytes in the project.
        KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Producer> first,
                              runs_.FirstProducer(graph_.query.project, d));
        size_t a = artifact_index_.at(d);
        if (!first) continue;
        const Producer& p = *first;
        graph_.artifacts[a].job = p.record.job;
        graph_.artifacts[a].output = p.record.output;
        if (auto it = p.outputs.find(p.record.output); it != p.outputs.end()) {
          graph_.artifacts[a].ref = it->second;
        }
        if (level > graph_.query.depth) {
          graph_.truncated = true;
          continue;
        }
        graph_.generated.push_back({p.record.job, p.record.output, d});
        if (job_index_.count(p.record.job)) continue;
        KILN_RETURN_IF_ERROR(AddJob(first, level));
        for (const auto& [name, input] : p.record.inputs) {
          graph_.used.push_back({p.record.job, name, input});
          if (AddArtifact(input, level)) next.push_back(input);
        }
      }
      frontier = std::move(next);
    }
    return Status::Ok();
  }

  // Levels -1, -2, … : the jobs that used each artifact of the frontier, and their outputs.
  Status Down() {
    std::vector<Digest> frontier{graph_.query.artifact};
    for (int64_t level = 1; !frontier.empty(); ++level) {
      std::vector<Digest> next;
      for (const Digest& d : frontier) {
        KILN_ASSIGN_OR_RETURN(std::vector<std::string> users,
                              runs_.JobsUsing(graph_.query.project, d));
        if (users.empty()) continue;
        if (level > graph_.query.depth) {
          graph_.truncated = true;
          continue;
        }
        for (const std::string& job : users) {
          if (job_index_.count(job)) continue;
          KILN_ASSIGN_OR_RETURN(std::vector<Producer> records, runs_.JobProvenance(job));
          if (records.empty()) continue;
          std::map<std::string, Digest> inputs = records.front().record.inputs;
          for (const auto& [name, input] : inputs) {
            if (input == d || artifact_index_.count(input))
              graph_.used.push_back({job, name, input});
          }
          std::vector<std::pair<std::string, Digest>> outputs;
          for (const Producer& r : records)
            outputs.emplace_back(r.record.output, r.record.artifact);
          KILN_RETURN_IF_ERROR(
              AddJob(std::make_shared<const Producer>(std::move(records.front())), -level));
          for (const auto& [name, output] : outputs) {
            graph_.generated.push_back({job, name, output});
            bool added = AddArtifact(output, -level);
            size_t a = artifact_index_.at(output);
            if (graph_.artifacts[a].job.empty()) {
              graph_.artifacts[a].job = job;
              graph_.artifacts[a].output = name;
              const Outputs& outs = graph_.jobs.back().producer->outputs;
              if (auto it = outs.find(name); it != outs.end()) graph_.artifacts[a].ref = it->second;
            }
            if (added) next.push_back(output);
          }
        }
      }
      frontier = std::move(next);
    }
    return Status::Ok();
  }

  // Adds the artifact once; true when it is new.
  bool AddArtifact(const Digest& d, int64_t level) {
    auto [it, fresh] = artifact_index_.try_emplace(d, graph_.artifacts.size());
    if (!fresh) return false;
    LineageArtifact a;
    a.digest = d;
    a.level = level;
    graph_.artifacts.push_back(std::move(a));
    return true;
  }

  Status AddJob(std::shared_ptr<const Producer> p, int64_t level) {
    LineageJob j;
    j.level = level;
    auto [op, fresh] = operation_index_.try_emplace(p->record.operation_digest, 0);
    if (fresh) {
      KILN_ASSIGN_OR_RETURN(std::string snapshot,
                            runs_.OperationSnapshot(p->record.operation_digest));
      op->second = graph_.operations.size();
      graph_.operations.push_back(std::move(snapshot));
    }
    j.operation = op->second;
    if (!p->record.cached_from.empty()) {
      // Said only when the original is the project's own job.
      Result<JobRecord> original = runs_.GetJob(p->record.cached_from);
      Result<ExecutionRecord> e = original.ok() ? runs_.GetExecution(original->execution)
                                                : Result<ExecutionRecord>(original.status());
      if (e.ok() && e->project == graph_.query.project) {
        j.cached_from_execution = e->id;
      } else {
        j.cached_from_other_project = true;
      }
    }
    job_index_[p->record.job] = graph_.jobs.size();
    j.producer = std::move(p);
    graph_.jobs.push_back(std::move(j));
    return Status::Ok();
  }

  RunsStore& runs_;
  LineageGraph graph_;
  std::unordered_map<Digest, size_t> artifact_index_;
  std::unordered_map<std::string, size_t> job_index_;
  std::unordered_map<Digest, size_t> operation_index_;
};

}  // namespace

Result<LineageGraph> WalkLineage(RunsStore& runs, const LineageQuery& query) {
  if (query.depth < 0) return InvalidArgument("depth must not be negative");
  return Walk(runs, query).Run();
}

}  // namespace kiln
