#include "core/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace twinline {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {

// OpenSSL 3 resolves a legacy EVP_sha256() through its provider registry
// (EVP_MD_fetch: a lock and a name lookup) on every EVP_DigestInit_ex; an
// import hashes a few times per event, and the fetch cost more than the
// hashing. The digest is fetched once and kept: an immutable, thread-safe
// OpenSSL object, like the one EVP_sha256() returns (no mutable state).
const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  // Failure here means OpenSSL itself is broken or out of memory: a bug or
  // logistics failure, not bad input, hence an exception.
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, FetchedSha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not initialise SHA-256");
  }
}

Sha256::~Sha256() = default;

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(ctx_->md, data, size);
}

Digest Sha256::Finish() {
  Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out.data(), &len);
  return out;
}

std::string ToHex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace twinline
