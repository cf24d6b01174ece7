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
//    whitespace is trimmed; an empty token, or one with characters outside
//    RFC 6750's b64token set, is refused.
//  * Token comparison takes time independent of where the strings differ.
#ifndef TWINLINE_TOOLS_SERVER_AUTH_H_
#define TWINLINE_TOOLS_SERVER_AUTH_H_

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace twinline::server {

// kNotFound if the file cannot be read, kInvalidArgument if it holds no
// usable token.
Status LoadToken(const std::string& path, std::string* token);

bool IsLoopback(const boost::asio::ip::address& address);

// kInvalidArgument when a server listening on `address` would take writes
// from the network without a token.
Status CheckListenPolicy(const boost::asio::ip::address& address, bool read_only, bool has_token);

// Whether an Authorization header value carries `token` as a bearer token
// (scheme matched case-insensitively). False for an empty token.
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_AUTH_H_
