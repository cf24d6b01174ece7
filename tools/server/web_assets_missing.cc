// A build without node/npm (TWINLINE_WEB=OFF or neither found): no page.
#include "tools/server/web_assets.h"

namespace twinline::server {

const WebAsset kWebAssets[] = {{"", "", nullptr, 0}};
const size_t kWebAssetCount = 0;

}  // namespace twinline::server
