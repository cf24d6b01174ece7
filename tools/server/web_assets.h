// The page `twinline serve` shows at GET / (web/: its sources, npm
// dependencies pinned by web/package-lock.json, bundled by web/build.mjs with
// esbuild at build time), embedded in the binary so the page works offline:
// no CDN, no tile server (the map's countries are Natural Earth's, from the
// world-atlas package).
//
// kWebAssets is generated into the build tree (web_assets.cc); a build
// without node and npm has none, and GET / says how to get the page.
#ifndef TWINLINE_TOOLS_SERVER_WEB_ASSETS_H_
#define TWINLINE_TOOLS_SERVER_WEB_ASSETS_H_

#include <cstddef>
#include <string_view>

namespace twinline::server {

struct WebAsset {
  const char* path;          // "/", "/assets/app.js"
  const char* content_type;  // "text/html; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

// The asset served at `path`, or null.
inline const WebAsset* FindWebAsset(std::string_view path) {
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    if (path == kWebAssets[i].path) return &kWebAssets[i];
  }
  return nullptr;
}

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_WEB_ASSETS_H_
