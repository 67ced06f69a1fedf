import Foundation
import Hummingbird
import MuseStore

/// `GET /app/api/admin/users`: every user with their key and this month's usage (admins only).
extension AppController {
  // swiftlint:disable identifier_name
  struct AppAdminUserView: Encodable {
    struct Key: Encodable {
      let id: String
      let prefix: String
      let models: [String]
      let limits: AppLimitsView
      let revoked: Bool
    }
    let id: String
    let username: String
    let is_admin: Bool
    let created_at: Int
    let disabled: Bool
    let key: Key?
    let usage: AppUsageTotalsView
  }
  // swiftlint:enable identifier_name

  func appAdminUsers(_ request: Request, context: MuseRequestContext) throws -> Response {
    let caller = try context.requireAppCaller()
    guard caller.user.isAdmin else { throw AppErrors.adminRequired }
    let monthStart = BudgetPeriod.month.start(of: Date())
    let usage = Dictionary(
      try service.store.totals(keyID: nil, since: monthStart, groupedBy: .key).compactMap { t in
        t.keyID.map { ($0, t) }
      }, uniquingKeysWith: { a, _ in a })
    let views = try service.store.users().map { user -> AppAdminUserView in
      let key = try service.store.key(id: user.keyID)
      return AppAdminUserView(
        id: user.id, username: user.username, is_admin: user.isAdmin,
        created_at: Int(user.createdAt.timeIntervalSince1970), disabled: user.disabled,
        key: key.map {
          .init(
            id: $0.id, prefix: $0.prefix, models: $0.models,
            limits: AppLimitsView($0.limits, used: usage[$0.id]),
            revoked: !$0.isActive())
        },
        usage: AppUsageTotalsView(usage[user.keyID]))
    }
    struct Body: Encodable { let data: [AppAdminUserView] }
    return try jsonResponse(Body(data: views))
  }
}
