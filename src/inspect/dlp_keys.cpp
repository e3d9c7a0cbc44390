#include "inspect/dlp_keys.h"

#include "inspect/internal/hmac.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ztgate::inspect {
namespace {

constexpr size_t kSecretBytes = 32;

Error key_error(std::string message) { return Error{"dlp_key_invalid", std::move(message)}; }

bool hmac(std::string_view key, std::string_view label, std::string& out) {
  std::array<unsigned char, 32> digest{};
  if (!internal::hmac_sha256(key, label, digest)) return false;  // out of memory: fail closed
  out.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  return true;
}

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

Result<std::string> create(const std::string& path) {
  unsigned char secret[kSecretBytes];
  if (RAND_bytes(secret, sizeof secret) != 1) return key_error("no randomness for the DLP key");
  std::string text = hex(secret, sizeof secret) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return key_error("cannot create DLP key " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return key_error("cannot write DLP key " + path);
  }
  return text.substr(0, 2 * kSecretBytes);
}

}  // namespace

Result<DlpKeys> derive_dlp_keys(std::string_view secret) {
  DlpKeys k;
  if (!hmac(secret, "ztgate-dlp-hash-v1", k.redact.hash_key) ||
      !hmac(secret, "ztgate-dlp-pseudonym-v1", k.redact.pseudonym_key) ||
      !hmac(secret, "ztgate-dlp-canary-v1", k.canary_key))
    return key_error("cannot derive the DLP keys");
  return k;
}

Result<DlpKeys> load_or_create_dlp_keys(const std::string& path) {
  std::string text;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return key_error("cannot read DLP key " + path + ": " + std::strerror(errno));
    auto made = create(path);
    if (!made) return made.error();
    text = *made;
  } else {
    if ((st.st_mode & 077) != 0) return key_error("DLP key " + path + " is readable by others: chmod 600 it");
    std::ifstream in(path);
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  }
  if (text.size() != 2 * kSecretBytes || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return key_error("DLP key " + path + " must hold 64 hex digits");
  return derive_dlp_keys(text);
}

}  // namespace ztgate::inspect
