// Who may write to a `twinline serve` server.
//
// Policy (safe by default):
//  * A server with a token (read once at startup from --token-file) accepts
//    a write only with "Authorization: Bearer <token>"; reads need nothing.
//  * A server without a token accepts writes from anyone who can reach it,
//    which is allowed only when it listens on a loopback address:
//    CheckListenPolicy refuses a writable server on any other address
//    (the operator must give a token file or --read-only).
//  * The token file holds the token on its first line; surrounding
//    whitespace is trimmed; an empty token, one shorter than
//    kMinTokenLength characters (guessable), or one with characters outside
//    RFC 6750's b64token set, is refused. At most kMaxTokenFileBytes are
//    read (`--token-file /dev/zero` is refused, not read forever). A token
//    file that every user may read gets a warning.
//  * Token comparison takes time independent of where the strings differ.
//  * A write is judged from its headers alone, before its body is read
//    (AuthorizeWrite): a client without the token cannot make the server
//    read, buffer or parse anything but a header block. More than one
//    Authorization header is refused as ambiguous.
#ifndef TWINLINE_TOOLS_SERVER_AUTH_H_
#define TWINLINE_TOOLS_SERVER_AUTH_H_

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace twinline::server {

inline constexpr size_t kMinTokenLength = 16;
inline constexpr size_t kMaxTokenFileBytes = 4096;

// kNotFound if the file cannot be read, kInvalidArgument if it holds no
// usable token. `warning` (may be null) is set when the file is readable by
// every user, else cleared.
Status LoadToken(const std::string& path, std::string* token, std::string* warning = nullptr);

// Whether a request with `method` writes (anything but GET, HEAD, OPTIONS).
bool IsWriteMethod(std::string_view method);

// The verdict on a write request, from its headers, before its body is read.
enum class WriteAuth {
  kAllowed,
  kReadOnly,      // 403: the server takes no writes
  kNoToken,       // 401: no Authorization header, and the server has a token
  kWrongToken,    // 401: not the server's token
  kAmbiguous,     // 400: more than one Authorization header
};
// `authorization` holds the values of every Authorization header of the
// request. `token` empty: writes need none.
WriteAuth AuthorizeWrite(bool read_only, std::string_view token,
                         const std::vector<std::string_view>& authorization);

bool IsLoopback(const boost::asio::ip::address& address);

// kInvalidArgument when a server listening on `address` would take writes
// from the network without a token.
Status CheckListenPolicy(const boost::asio::ip::address& address, bool read_only, bool has_token);

// Whether an Authorization header value carries `token` as a bearer token
// (scheme matched case-insensitively). False for an empty token.
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_AUTH_H_
