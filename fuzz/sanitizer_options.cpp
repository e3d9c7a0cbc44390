// Linked into every fuzz target: undefined behavior ends the run (by
// default UBSan reports and carries on, and libFuzzer would save nothing),
// whatever UBSAN_OPTIONS the caller sets or forgets. UBSAN_OPTIONS still
// overrides these defaults.
extern "C" const char* __ubsan_default_options() {  // NOLINT: name fixed by UBSan
  return "halt_on_error=1:print_stacktrace=1";
}
