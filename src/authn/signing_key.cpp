#include "authn/signing_key.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "authn/base64url.h"

namespace ztgate::authn {
namespace {

Error key_error(std::string message) { return make_error("signing_key_error", std::move(message)); }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

Result<SigningKey> SigningKey::from_pkey(EvpPkeyPtr key) {
  if (!key || !EVP_PKEY_is_a(key.get(), "ED25519")) return key_error("the signing key must be Ed25519");
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1 || len != sizeof raw)
    return key_error("cannot read the public half of the signing key");
  SigningKey k;
  k.key_ = std::move(key);
  k.x_ = base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len));
  k.kid_ = ed25519_thumbprint(k.x_);
  return k;
}

Result<SigningKey> SigningKey::generate() {
  return from_pkey(EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")));
}

Result<SigningKey> SigningKey::load(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return key_error("cannot read signing key " + path + ": " + std::strerror(errno));
  if ((st.st_mode & 077) != 0)
    return key_error("signing key " + path + " is readable by group or others; chmod 600 it");
  if (st.st_size > 64 * 1024) return key_error("signing key " + path + " is too large to be a PEM key");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return key_error("cannot open signing key " + path);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return key_error("signing key " + path + " is not a PEM private key");
  return from_pkey(std::move(key));
}

Result<SigningKey> SigningKey::load_or_create(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return load(path);
  auto key = generate();
  if (!key) return key.error();
  if (auto st = key->write_pem(path); !st) return st.error();
  return key;
}

Status SigningKey::write_pem(const std::string& path) const {
  // O_EXCL: never overwrite an existing key; 0600 from the start.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return key_error("cannot create signing key " + path + ": " + std::strerror(errno));
  std::unique_ptr<BIO, BioFree> mem(BIO_new(BIO_s_mem()));
  bool ok = mem && PEM_write_bio_PrivateKey(mem.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  char* data = nullptr;
  long len = ok ? BIO_get_mem_data(mem.get(), &data) : 0;
  ok = ok && len > 0 && ::write(fd, data, static_cast<size_t>(len)) == len;
  ok = (::fsync(fd) == 0) && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return key_error("cannot write signing key " + path);
  }
  return Ok{};
}

std::string SigningKey::public_jwk_json() const {
  return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + x_ + "\",\"kid\":\"" + kid_ +
         "\",\"alg\":\"EdDSA\",\"use\":\"sig\"}";
}

Result<Jwk> SigningKey::public_jwk() const { return parse_jwk(public_jwk_json()); }

Result<std::string> SigningKey::sign(std::string_view bytes) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t sig_len = sizeof sig;
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return key_error("signing failed");
  return std::string(reinterpret_cast<char*>(sig), sig_len);
}

Result<std::string> SigningKey::sign_compact(std::string_view typ, std::string_view payload_json) const {
  std::string header = "{\"alg\":\"EdDSA\",\"typ\":\"" + std::string(typ) + "\",\"kid\":\"" + kid_ + "\"}";
  std::string input = base64url_encode(header) + "." + base64url_encode(payload_json);
  auto sig = sign(input);
  if (!sig) return sig.error();
  return input + "." + base64url_encode(*sig);
}

}  // namespace ztgate::authn
