// Errors of the HTTP API in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace pplug::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::string param = "", std::string code = "")
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        param(std::move(param)),
        code(std::move(code)) {}
  int status;         // the HTTP status
  std::string type;   // invalid_request_error, authentication_error, not_found_error, ...
  std::string param;  // the request field at fault ("" = none: JSON null)
  std::string code;   // a short machine-readable code ("" = null)
};

// A 400 naming the field at fault.
inline ApiError bad_field(const std::string& param, const std::string& message) {
  return ApiError(400, message, "invalid_request_error", param);
}

// The error body. JSON strings are dumped with invalid UTF-8 replaced, so a message that quotes
// a client's bytes can always be sent.
inline std::string error_body(const std::string& message, const std::string& type,
                              const std::string& param = "", const std::string& code = "") {
  nlohmann::json error = {{"message", message},
                          {"type", type},
                          {"param", param.empty() ? nlohmann::json() : nlohmann::json(param)},
                          {"code", code.empty() ? nlohmann::json() : nlohmann::json(code)}};
  return nlohmann::json{{"error", error}}.dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
}

inline std::string error_body(const ApiError& e) {
  return error_body(e.what(), e.type, e.param, e.code);
}

}  // namespace pplug::serve
