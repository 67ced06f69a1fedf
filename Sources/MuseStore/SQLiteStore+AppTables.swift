import Foundation
import GRDB

extension SQLiteStore {
  /// The chat app's tables, added after v1 so existing keys and usage stay as they are.
  static func registerAppTables(in m: inout DatabaseMigrator) {
    m.registerMigration("v2-app") { db in
      try db.create(table: "app_user") { t in
        t.primaryKey("id", .text)
        t.column("username", .text).notNull().unique()
        t.column("password_hash", .text).notNull()
        t.column("is_admin", .boolean).notNull().defaults(to: false)
        t.column("disabled", .boolean).notNull().defaults(to: false)
        t.column("created_at", .datetime).notNull()
        t.column("key_id", .text).notNull().references("api_key")
      }
      try db.create(table: "app_session") { t in
        t.primaryKey("token_hash", .text)
        t.column("user_id", .text).notNull().indexed().references("app_user", onDelete: .cascade)
        t.column("created_at", .datetime).notNull()
        t.column("expires_at", .datetime).notNull().indexed()
        t.column("last_seen_at", .datetime).notNull()
      }
      try db.create(table: "conversation") { t in
        t.primaryKey("id", .text)
        t.column("user_id", .text).notNull().indexed().references("app_user", onDelete: .cascade)
        t.column("title", .text).notNull()
        t.column("model", .text).notNull()
        t.column("system_prompt", .text)
        t.column("temperature", .double)
        t.column("thinking", .boolean).notNull().defaults(to: false)
        t.column("created_at", .datetime).notNull()
        t.column("updated_at", .datetime).notNull().indexed()
      }
      try db.create(table: "message") { t in
        // The row id orders messages: two can share a created_at.
        t.autoIncrementedPrimaryKey("seq")
        t.column("id", .text).notNull().unique()
        t.column("conversation_id", .text).notNull().indexed().references("conversation", onDelete: .cascade)
        t.column("role", .text).notNull()
        t.column("content", .text).notNull()
        t.column("reasoning", .text)
        t.column("finish_reason", .text)
        t.column("created_at", .datetime).notNull()
      }
    }
    // Tool calls in the app (issue #18): a conversation's tools, an assistant message's calls
    // and the call a tool message answers.
    m.registerMigration("v3-app-tools") { db in
      try db.alter(table: "conversation") { t in t.add(column: "tools", .text) }
      try db.alter(table: "message") { t in
        t.add(column: "tool_calls", .text)
        t.add(column: "tool_call_id", .text)
      }
    }
  }
}
