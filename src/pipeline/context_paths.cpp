#include "pipeline/context_paths.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace ztgate::pipeline {

namespace {

using cedar::Expr;

class Walker {
 public:
  void visit(const Expr& e) {
    if (whole_) return;
    if (e.kind == Expr::Kind::kGetAttr || e.kind == Expr::Kind::kHasAttr) {
      visit_access_chain(e);
      return;
    }
    if (is_context(e)) {
      whole_ = true;  // `context` used as a value: we cannot tell what is read
      return;
    }
    for (const auto& arg : e.args)
      if (arg) visit(*arg);
  }

  ContextPaths finish() && {
    ContextPaths out;
    if (whole_) {
      out.whole = true;
      return out;
    }
    out.paths = normalize();
    return out;
  }

 private:
  static bool is_context(const Expr& e) {
    return e.kind == Expr::Kind::kVar && e.var == cedar::Var::kContext;
  }

  // `x.a.b` or `x.a has b`: a path when x is `context`; otherwise the chain
  // reads no context itself and only x needs walking.
  void visit_access_chain(const Expr& e) {
    ContextPath path;
    const Expr* cur = &e;
    if (cur->kind == Expr::Kind::kHasAttr) {
      path.presence_only = true;
      path.attrs.push_back(cur->name);
      cur = cur->args.empty() ? nullptr : cur->args[0].get();
    }
    while (cur && cur->kind == Expr::Kind::kGetAttr) {
      path.attrs.push_back(cur->name);
      cur = cur->args.empty() ? nullptr : cur->args[0].get();
    }
    if (!cur) return;
    if (is_context(*cur)) {
      std::reverse(path.attrs.begin(), path.attrs.end());
      found_.insert(std::move(path));
      return;
    }
    visit(*cur);
  }

  // Drops paths covered by a value read of a prefix (or of themselves).
  std::vector<ContextPath> normalize() const {
    std::set<std::vector<std::string>> by_value;
    for (const auto& p : found_)
      if (!p.presence_only) by_value.insert(p.attrs);
    auto covered = [&](const ContextPath& p) {
      for (size_t n = 1; n <= p.attrs.size(); ++n) {
        if (n == p.attrs.size() && !p.presence_only) break;  // itself, as a value read
        std::vector<std::string> prefix(p.attrs.begin(), p.attrs.begin() + static_cast<long>(n));
        if (by_value.count(prefix)) return true;
      }
      return false;
    };
    std::vector<ContextPath> out;
    for (const auto& p : found_)
      if (!covered(p)) out.push_back(p);
    return out;  // std::set order: sorted, unique
  }

  bool whole_ = false;
  std::set<ContextPath> found_;
};

void walk_policy(Walker& walker, const cedar::Policy& policy) {
  for (const auto& condition : policy.conditions)
    if (condition.body) walker.visit(*condition.body);
}

void append_segment(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

// What `path` observes in `context`, in an unambiguous form: where the walk
// stopped (a missing attribute, or a non-record such as an entity whose
// attributes live in the entity store) and the value or presence found.
void append_observation(std::string& out, const cedar::ValueRecord& context,
                        const ContextPath& path) {
  const cedar::ValueRecord* record = &context;
  for (size_t i = 0; i < path.attrs.size(); ++i) {
    auto it = record->find(path.attrs[i]);
    if (it == record->end()) {
      out += "absent@";
      out += std::to_string(i);
      out += ';';
      return;
    }
    const cedar::Value& v = it->second;
    bool last = i + 1 == path.attrs.size();
    if (last && path.presence_only) {
      out += "present;";
      return;
    }
    if (last || !v.is_record()) {
      out += "value@";
      out += std::to_string(i);
      out += '=';
      append_segment(out, cedar::to_cedar_string(v));
      out += ';';
      return;
    }
    record = &v.as_record();
  }
}

struct PathTree {
  bool whole = false;
  std::map<std::string, PathTree, std::less<>> children;
};

cedar::ValueRecord restrict_record(const cedar::ValueRecord& record, const PathTree& tree) {
  cedar::ValueRecord out;
  for (const auto& [name, child] : tree.children) {
    auto it = record.find(name);
    if (it == record.end()) continue;
    if (child.whole || !it->second.is_record())
      out.emplace(name, it->second);
    else
      out.emplace(name, cedar::Value::record(restrict_record(it->second.as_record(), child)));
  }
  return out;
}

const cedar::ValueRecord& record_or_empty(const cedar::RecordPtr& context) {
  static const cedar::ValueRecord empty;
  return context ? *context : empty;
}

}  // namespace

ContextPaths context_paths(const cedar::PolicySet& set) {
  Walker walker;
  for (const auto& p : set.policies()) walk_policy(walker, *p);
  for (const auto& t : set.templates()) walk_policy(walker, *t);
  return std::move(walker).finish();
}

ContextPaths context_paths(const cedar::Expr& expr) {
  Walker walker;
  walker.visit(expr);
  return std::move(walker).finish();
}

std::string canonical_context(const cedar::RecordPtr& context, const ContextPaths& paths) {
  const cedar::ValueRecord& record = record_or_empty(context);
  std::string out;
  if (paths.whole) {
    out = "whole;";
    append_segment(out, cedar::to_cedar_string(cedar::Value::record(record)));
    return out;
  }
  for (const auto& path : paths.paths) {
    out += "path;";
    for (const auto& attr : path.attrs) append_segment(out, attr);
    out += '=';
    append_observation(out, record, path);
  }
  return out;
}

cedar::RecordPtr restrict_context(const cedar::RecordPtr& context, const ContextPaths& paths) {
  if (paths.whole) return context;
  PathTree tree;
  for (const auto& path : paths.paths) {
    PathTree* node = &tree;
    for (const auto& attr : path.attrs) {
      if (node->whole) break;
      node = &node->children[attr];
    }
    node->whole = true;
    node->children.clear();
  }
  return std::make_shared<const cedar::ValueRecord>(restrict_record(record_or_empty(context), tree));
}

}  // namespace ztgate::pipeline
