#include "server/api_interface.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <semaphore>

#include "compute/local_backend.h"
#include "core/child_process.h"

namespace kiln {

using json = nlohmann::json;

struct InterfaceContext::Slots {
  explicit Slots(int n) : free(std::max(1, n)) {}
  std::counting_semaphore<1024> free;
};

InterfaceContext::InterfaceContext(Access& access, InterfaceOptions options)
    : access_(access), options_(std::move(options)) {
  if (options_.python_path.empty()) options_.python_path = LocalBackend::DefaultPythonPath();
  slots_ = std::make_unique<Slots>(options_.max_children);
}

InterfaceContext::~InterfaceContext() = default;

Result<InterfaceContext::ToolRun> InterfaceContext::RunPythonModule(
    const std::string& module, const std::vector<std::string>& args, const std::string& input) {
  if (!slots_->free.try_acquire_for(std::chrono::milliseconds(options_.wait_for_child_ms))) {
    return ResourceExhausted("the server is busy analysing other code; try again");
  }
  struct Release {
    Slots* s;
    ~Release() { s->free.release(); }
  } release{slots_.get()};

  ChildProcessOptions o;
  o.argv = {options_.python, "-m", module};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  // -m finds kiln through PYTHONPATH; no user site, no bytecode litter.
  o.env = {"PYTHONPATH=" + std::filesystem::absolute(options_.python_path).string(),
           "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
  o.stdin_data = input;
  o.timeout = std::chrono::milliseconds(options_.timeout_ms);
  o.max_output = options_.max_code_bytes * 8 + 65536;  // code comes back JSON-escaped
  Result<ChildProcessResult> r = RunChildProcess(o);
  if (!r.ok()) {
    return Status(r.status().code() == Code::kInternal ? Code::kIOError : r.status().code(),
                  "Python is not available to analyse code (" + r.status().message() + ")");
  }
  if (r->timed_out) {
    return Status(Code::kCancelled, "analysing the code took longer than " +
                                        std::to_string(options_.timeout_ms / 1000) + " s");
  }
  if (r->err.find("No module named") != std::string::npos && r->exit_code != 0 && r->out.empty()) {
    return NotFound("the kiln Python package is not under " + o.env[0].substr(11));
  }
  return ToolRun{r->exit_code, std::move(r->out), std::move(r->err)};
}

Result<json> InterfaceContext::RunInterfaceTool(const std::string& op, const std::string& input) {
  Result<ToolRun> r = RunPythonModule("kiln.interface", {op}, input);
  if (!r.ok()) return r.status();
  json reply = json::parse(r->out, nullptr, /*allow_exceptions=*/false);
  // kiln.interface exits 0 with ok:true and 1 with ok:false; anything else
  // (an import error, a crash) is a bug or a broken installation.
  if ((r->exit_code != 0 && r->exit_code != 1) || !reply.is_object() || !reply.contains("ok")) {
    std::string err = r->err.size() > 2000 ? r->err.substr(r->err.size() - 2000) : r->err;
    spdlog::error("kiln.interface {} failed (exit {}): {}", op, r->exit_code, err);
    return Internal("the interface tool failed (exit status " + std::to_string(r->exit_code) +
                    "); the server log has its output");
  }
  return reply;
}

namespace {

HttpResponse ToolFailure(const Status& s) {
  if (s.code() == Code::kInternal) return HttpResponse::Error(s);
  return HttpResponse::Error(503, "Unavailable", s.message());
}

bool Ok(const json& reply) {
  auto it = reply.find("ok");
  return it != reply.end() && it->is_boolean() && it->get<bool>();
}

// {"ok": false, "error": {"message", "line", "column"}} → 422 that keeps the
// position, so the editor can mark the spot. Read defensively: whatever the
// tool printed, the answer is well-formed.
HttpResponse InterfaceError(const json& reply) {
  auto e = reply.find("error");
  auto field = [&](const char* key) -> json {
    if (e == reply.end() || !e->is_object()) return nullptr;
    auto it = e->find(key);
    return it == e->end() ? json(nullptr) : *it;
  };
  json message = field("message"), line = field("line"), column = field("column");
  json error = {{"code", "FailedPrecondition"},
                {"message", message.is_string() ? message : json("invalid code")},
                {"line", line.is_number_integer() ? line : json(nullptr)},
                {"column", column.is_number_integer() ? column : json(nullptr)}};
  return HttpResponse::Json(422, {{"error", error}});
}

// The body of a caller who may read the project: an object with a string
// "code" within the size limit.
Result<json> CheckedBody(InterfaceContext& ctx, const HttpRequest& r) {
  KILN_RETURN_IF_ERROR(ctx.access().Check(r.user, r.Param("p"), Role::kRead));
  KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
  auto code = body.find("code");
  if (code == body.end() || !code->is_string()) {
    return InvalidArgument("the body needs a string 'code' (the operation's Python code)");
  }
  size_t max = ctx.options().max_code_bytes;
  if (code->get_ref<const std::string&>().size() > max) {
    return ResourceExhausted("the code is over " + std::to_string(max >> 10) + " KiB");
  }
  return body;
}

// 200 {key: reply[key]} when the tool succeeded, else the 422 or 5xx.
HttpResponse Answer(const Result<json>& reply, const char* key) {
  if (!reply.ok()) return ToolFailure(reply.status());
  auto it = reply->find(key);
  if (!Ok(*reply) || it == reply->end() || !(it->is_string() || it->is_object())) {
    return InterfaceError(*reply);
  }
  return HttpResponse::Json(200, {{key, *it}});
}

}  // namespace

void RegisterInterfaceApi(Router& router, InterfaceContext& ctx) {
  router.Add(
      "POST", "/api/v1/projects/{p}/interface/parse",
      [&ctx](HttpRequest& r) {
        Result<json> body = CheckedBody(ctx, r);
        if (!body.ok()) return HttpResponse::Error(body.status());
        return Answer(ctx.RunInterfaceTool("parse", (*body)["code"].get<std::string>()),
                      "interface");
      },
      "The interface (inputs, outputs, attributes) of operation code: {code}; 422 with line");
  router.Add(
      "POST", "/api/v1/projects/{p}/interface/update",
      [&ctx](HttpRequest& r) {
        Result<json> body = CheckedBody(ctx, r);
        if (!body.ok()) return HttpResponse::Error(body.status());
        auto iface = body->find("interface");
        if (iface == body->end() || !iface->is_object()) {
          return HttpResponse::Error(InvalidArgument(
              "the body needs an object 'interface' (inputs, outputs, attributes)"));
        }
        json input = {{"code", (*body)["code"]}, {"interface", *iface}};
        return Answer(ctx.RunInterfaceTool("update", input.dump()), "code");
      },
      "Operation code rewritten to match an edited interface: {code, interface}; 422 with line");
}

}  // namespace kiln
