#include "tools/server/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

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

Status LoadToken(const std::string& path, std::string* token, std::string* warning) {
  if (warning != nullptr) warning->clear();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot read token file " + path + ": " + std::strerror(errno));
  // One byte more than allowed, to tell a full file from a longer one.
  std::string data(kMaxTokenFileBytes + 1, '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  struct stat st;
  const bool world_readable = fstat(fd, &st) == 0 && (st.st_mode & S_IROTH) != 0;
  close(fd);
  data.resize(got);
  const size_t newline = data.find('\n');
  if (newline == std::string::npos && got > kMaxTokenFileBytes) {
    return Status::InvalidArgument("token file " + path + " is not a token: its first line is over " +
                                   std::to_string(kMaxTokenFileBytes) + " bytes long");
  }
  const std::string_view t = Trim(std::string_view(data).substr(0, newline));
  if (t.empty()) return Status::InvalidArgument("token file " + path + " holds no token");
  for (char c : t) {
    if (!IsTokenChar(c)) {
      return Status::InvalidArgument("token file " + path +
                                     ": a token may hold only letters, digits and -._~+/=");
    }
  }
  if (t.size() < kMinTokenLength) {
    return Status::InvalidArgument(
        "token file " + path + ": the token has " + std::to_string(t.size()) +
        (t.size() == 1 ? " character" : " characters") + "; use at least " + std::to_string(kMinTokenLength) +
        " (e.g. head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 32)");
  }
  if (world_readable && warning != nullptr) {
    *warning = "token file " + path + " is readable by every user of this machine (chmod 600 " +
               path + ")";
  }
  *token = std::string(t);
  return Status::Ok();
}

bool IsWriteMethod(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

WriteAuth AuthorizeWrite(bool read_only, std::string_view token,
                         const std::vector<std::string_view>& authorization) {
  if (authorization.size() > 1) return WriteAuth::kAmbiguous;
  if (read_only) return WriteAuth::kReadOnly;
  if (token.empty()) return WriteAuth::kAllowed;
  if (authorization.empty()) return WriteAuth::kNoToken;
  return BearerMatches(authorization.front(), token) ? WriteAuth::kAllowed : WriteAuth::kWrongToken;
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
