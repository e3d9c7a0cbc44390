// Streaming SHA-256 of a file, at close to disk (or page-cache) speed.
//
// The file is read sequentially in 1 MiB aligned chunks with
// posix_fadvise(SEQUENTIAL) and hashed through OpenSSL's EVP interface, which
// uses SHA-NI (or AVX2) when the CPU has it. Only regular files are hashed:
// a symlink (the last path component is never followed), FIFO, socket,
// device or directory is refused, so hashing cannot block or escape.
//
// Error codes (stable):
//   digest_io_error     the file cannot be opened, stat'ed or read
//   digest_not_regular  the path is not a regular file (symlinks included)
//   digest_too_large    the file is larger than the caller's bound
// Thread-safe: no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ztgate::posture {

// Default bound on one file: 1 TiB (larger than any weight shard we know).
inline constexpr uint64_t kMaxDigestFileBytes = uint64_t{1} << 40;

struct FileDigest {
  uint64_t size = 0;                   // bytes hashed
  std::array<unsigned char, 32> sha256{};
  std::string hex() const;             // lowercase, 64 characters
};

// Hashes the regular file at `path`. The last component is opened with
// O_NOFOLLOW, so a symlink is refused rather than followed.
Result<FileDigest> digest_file(const std::string& path, uint64_t max_bytes = kMaxDigestFileBytes);

// Hashes an already open descriptor (not closed, read from its current
// offset). `name` is only used in error messages.
Result<FileDigest> digest_fd(int fd, std::string_view name, uint64_t max_bytes = kMaxDigestFileBytes);

// SHA-256 of bytes in memory, lowercase hex.
std::string sha256_hex(std::string_view bytes);

}  // namespace ztgate::posture
