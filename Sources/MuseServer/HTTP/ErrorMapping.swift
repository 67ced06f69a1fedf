import Foundation
import Hummingbird
import MuseEngine
import MuseStore

extension OpenAIError {
  /// The one place where errors of the layers below HTTP (admission, the scheduler, the store's
  /// field checks) become what a client sees. Nil for errors this does not know.
  init?(mapping error: Error) {
    switch error {
    case let error as OpenAIError:
      self = error
    case let error as AdmissionError:
      self = Self.admission(error)
    case let error as SchedulerError:
      switch error {
      case .overloaded:
        self = OpenAIError(
          .serviceUnavailable, "The model is at capacity. Please retry shortly.", type: "server_error",
          code: "model_overloaded", retryAfter: 1)
      case .tooLarge:
        self = .invalid("\(error)", param: "max_tokens", code: "context_length_exceeded")
      case .emptyPrompt:
        self = .invalid("The prompt has no tokens.", param: "prompt", code: "invalid_value")
      }
    case let error as KeyFieldError:
      self = .invalid("Invalid value for \(error.description).", param: error.field, code: "invalid_value")
    default:
      return nil
    }
  }

  private static func admission(_ error: AdmissionError) -> OpenAIError {
    switch error {
    case .requestRate(let limit, let wait):
      OpenAIError(
        .tooManyRequests, "Rate limit reached: \(limit) requests per minute. Try again in \(wait)s.",
        type: "requests", code: "rate_limit_exceeded", retryAfter: wait)
    case .tokenRate(let limit, let estimate, let wait):
      OpenAIError(
        .tooManyRequests,
        "Rate limit reached: \(limit) tokens per minute (this request may use up to \(estimate)). "
          + "Try again in \(wait)s.",
        type: "tokens", code: "rate_limit_exceeded", retryAfter: wait)
    case .tokenBudget(let budget, let used, let period, let resets):
      OpenAIError(
        .tooManyRequests, "You exceeded your token budget (\(budget) per \(period.rawValue); \(used) used).",
        type: "insufficient_quota", code: "insufficient_quota", retryAfter: resets)
    case .moneyBudget(let budget, let used, let period, let resets):
      OpenAIError(
        .tooManyRequests,
        String(
          format: "You exceeded your budget ($%.4f per %@; $%.4f used).", Double(budget) / 1e6,
          period.rawValue, Double(used) / 1e6),
        type: "insufficient_quota", code: "insufficient_quota", retryAfter: resets)
    }
  }
}
