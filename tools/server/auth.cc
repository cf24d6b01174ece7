#include "tools/server/auth.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace twinline::server {
namespace {

// RFC 6750, 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-._~+/=", c) != nullptr;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Status LoadToken(const std::string& path, std::string* token) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read token file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  const std::string_view t = Trim(line);
  if (t.empty()) return Status::InvalidArgument("token file " + path + " holds no token");
  for (char c : t) {
    if (!IsTokenChar(c)) {
      return Status::InvalidArgument("token file " + path +
                                     ": a token may hold only letters, digits and -._~+/=");
    }
  }
  *token = std::string(t);
  return Status::Ok();
}

bool IsLoopback(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return address.to_v6().to_v4().is_loopback();
  }
  return address.is_loopback();
}

Status CheckListenPolicy(const boost::asio::ip::address& address, bool read_only, bool has_token) {
  if (read_only || has_token || IsLoopback(address)) return Status::Ok();
  return Status::InvalidArgument(
      "refusing to accept writes on " + address.to_string() +
      " (not a loopback address) without a token: give --token-file, or --read-only");
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  if (token.empty()) return false;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  const std::string_view given = Trim(authorization.substr(kScheme.size()));
  // Constant time over the token's length: every byte is compared.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    const char g = i < given.size() ? given[i] : 0;
    diff |= static_cast<unsigned char>(g ^ token[i]);
  }
  return diff == 0;
}

}  // namespace twinline::server
