#include "posture/file_digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ztgate::posture {
namespace {

// Large enough that the per-call overhead vanishes, small enough to stay in L2.
constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr size_t kChunkAlign = 4096;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct AlignedFree {
  void operator()(unsigned char* p) const { std::free(p); }
};
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error io_error(std::string_view name, std::string_view what) {
  return make_error("digest_io_error", std::string(what) + " " + std::string(name) + ": " +
                                           std::strerror(errno));
}

std::string to_hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string FileDigest::hex() const { return to_hex(sha256.data(), sha256.size()); }

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

Result<FileDigest> digest_fd(int fd, std::string_view name, uint64_t max_bytes) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return io_error(name, "cannot stat");
  if (!S_ISREG(st.st_mode))
    return make_error("digest_not_regular", std::string(name) + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error("digest_too_large", std::string(name) + " is larger than " +
                                              std::to_string(max_bytes) + " bytes");
  // Advice only: a failure changes speed, not the result.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  std::unique_ptr<unsigned char, AlignedFree> buf(
      static_cast<unsigned char*>(std::aligned_alloc(kChunkAlign, kChunkBytes)));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!buf || !ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return make_error("digest_io_error", "out of memory hashing " + std::string(name));
  FileDigest out;
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kChunkBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(name, "cannot read");
    }
    if (n == 0) break;
    out.size += static_cast<uint64_t>(n);
    // The file may grow while we read it: the bound holds on what we hash.
    if (out.size > max_bytes)
      return make_error("digest_too_large", std::string(name) + " is larger than " +
                                                std::to_string(max_bytes) + " bytes");
    EVP_DigestUpdate(ctx.get(), buf.get(), static_cast<size_t>(n));
  }
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out.sha256.data(), &len);
  return out;
}

Result<FileDigest> digest_file(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ELOOP)
      return make_error("digest_not_regular", path + " is a symlink; symlinks are not followed");
    return io_error(path, "cannot open");
  }
  return digest_fd(f.fd, path, max_bytes);
}

}  // namespace ztgate::posture
