#include "common/grpc/request_check.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace bastion::grpcutil {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Why a string is refused, or nullptr when it is fine.
const char* Problem(absl::string_view s) {
  if (s.find('\0') != absl::string_view::npos) return "holds a NUL character";
  if (!IsValidUtf8(s)) return "is not valid UTF-8";
  return nullptr;
}

absl::Status Refuse(const std::string& path, const char* problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("request field ", path, " ", problem, "; text must be valid UTF-8 without NUL"));
}

// A map entry's key as it is shown in a path: quoted when it is a string (and itself fine).
std::string MapKeyText(const Message& entry) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  const Reflection* r = entry.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return absl::StrCat("\"", r->GetString(entry, key), "\"");
    case FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(r->GetInt32(entry, key));
    case FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(r->GetInt64(entry, key));
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(r->GetUInt32(entry, key));
    case FieldDescriptor::CPPTYPE_UINT64: return absl::StrCat(r->GetUInt64(entry, key));
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(entry, key) ? "true" : "false";
    default: return "?";
  }
}

absl::Status Check(const Message& m, const std::string& prefix) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // only fields that are set: cheap on sparse messages
  for (const FieldDescriptor* f : fields) {
    const std::string name = absl::StrCat(prefix, f->name());
    if (f->is_map()) {
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const Message& entry = r->GetRepeatedMessage(m, f, i);
        const Reflection* er = entry.GetReflection();
        if (key->type() == FieldDescriptor::TYPE_STRING) {
          if (const char* p = Problem(er->GetString(entry, key))) return Refuse(absl::StrCat(name, " key"), p);
        }
        const std::string at = absl::StrCat(name, "[", MapKeyText(entry), "]");
        if (value->type() == FieldDescriptor::TYPE_STRING) {
          if (const char* p = Problem(er->GetString(entry, value))) return Refuse(at, p);
        } else if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          if (auto s = Check(er->GetMessage(entry, value), absl::StrCat(at, ".")); !s.ok()) return s;
        }
      }
      continue;
    }
    if (f->type() == FieldDescriptor::TYPE_STRING) {  // TYPE_BYTES is exempt
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          std::string scratch;
          if (const char* p = Problem(r->GetRepeatedStringReference(m, f, i, &scratch))) {
            return Refuse(absl::StrCat(name, "[", i, "]"), p);
          }
        }
      } else {
        std::string scratch;
        if (const char* p = Problem(r->GetStringReference(m, f, &scratch))) return Refuse(name, p);
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          auto s = Check(r->GetRepeatedMessage(m, f, i), absl::StrCat(name, "[", i, "]."));
          if (!s.ok()) return s;
        }
      } else {
        if (auto s = Check(r->GetMessage(m, f), absl::StrCat(name, ".")); !s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // a continuation byte first, an overlong lead (C0, C1) or past F4
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, past U+10FFFF, or a surrogate
    }
    i += extra + 1;
  }
  return true;
}

absl::Status CheckRequestStrings(const Message& request) { return Check(request, ""); }

}  // namespace bastion::grpcutil
