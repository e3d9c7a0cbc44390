// Which parts of a request's `context` a policy set can read.
//
// The decision cache keys on the context, but keying on all of it would make
// every request with a fresh nonce or timestamp a miss. So the key holds only
// the context attribute paths that appear in policy conditions, found by
// walking the AST:
//   context.a.b            -> path [a, b], its value matters
//   context["a"]           -> path [a]
//   context.a has b        -> path [a, b], only its presence matters
// Fail safe: `context` anywhere else (compared whole, put in a set or record,
// passed to a method, returned from an if...) makes the WHOLE context part of
// the key. An unrecognised use can never make a read field invisible.
//
// Bounds: the walk recurses once per AST level, which the parser caps at
// cedar::kMaxExprHeight; the path count is at most the number of AST nodes.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cedar/policy_set.h"
#include "cedar/value.h"

namespace ztgate::pipeline {

struct ContextPath {
  std::vector<std::string> attrs;  // non-empty: context.attrs[0].attrs[1]...
  bool presence_only = false;      // only `has` reads it: present/absent is enough

  friend auto operator<=>(const ContextPath&, const ContextPath&) = default;
  friend bool operator==(const ContextPath&, const ContextPath&) = default;
};

struct ContextPaths {
  bool whole = false;              // some policy reads `context` as a whole value
  std::vector<ContextPath> paths;  // sorted, unique; empty when `whole`

  friend bool operator==(const ContextPaths&, const ContextPaths&) = default;
};

// The context reads of every policy and template in `set`. A path whose
// prefix is read by value is dropped (the prefix's value covers it); a
// presence-only path also read by value becomes a value path.
ContextPaths context_paths(const cedar::PolicySet& set);
// The same for one expression (used by tests and tools).
ContextPaths context_paths(const cedar::Expr& expr);

// A canonical, injective serialization of what `paths` can observe of
// `context` (null = the empty record): two contexts with the same
// serialization give every policy of the analysed set the same inputs.
// Records are printed with sorted keys and strings escaped, so no two
// different observations print the same.
std::string canonical_context(const cedar::RecordPtr& context, const ContextPaths& paths);

// `context` cut down to the fields `paths` can observe (tests and fuzzing:
// evaluating with it must give the same decision as with the full context).
cedar::RecordPtr restrict_context(const cedar::RecordPtr& context, const ContextPaths& paths);

}  // namespace ztgate::pipeline
