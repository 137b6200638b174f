#include "services/governance/canonical_json.h"

#include <algorithm>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"

namespace bastion::governance {
namespace {

namespace json = boost::json;

void Write(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const json::object& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += json::serialize(json::string(members[i]->key()));
        out.push_back(':');
        Write(members[i]->value(), out);
      }
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      const json::array& a = v.get_array();
      out.push_back('[');
      for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0) out.push_back(',');
        Write(a[i], out);
      }
      out.push_back(']');
      return;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

std::string CanonicalJson(const json::value& value) {
  std::string out;
  Write(value, out);
  return out;
}

absl::StatusOr<std::string> CanonicalizeJson(absl::string_view text) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", ec.message()));
  return CanonicalJson(v);
}

std::string Sha256Hex(absl::string_view data) { return crypto::HexEncode(crypto::Sha256(data)); }

}  // namespace bastion::governance
