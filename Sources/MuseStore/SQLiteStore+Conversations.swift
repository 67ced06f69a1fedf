import Foundation
import GRDB

extension SQLiteStore {
  private static func conversation(from row: Row) throws -> Conversation {
    try Conversation(
      id: row.decode(forColumn: "id"), userID: row.decode(forColumn: "user_id"),
      title: row.decode(forColumn: "title"), model: row.decode(forColumn: "model"),
      systemPrompt: row.decode(forColumn: "system_prompt"), temperature: row.decode(forColumn: "temperature"),
      thinking: row.decode(forColumn: "thinking"), tools: row.decode(forColumn: "tools"),
      createdAt: row.decode(forColumn: "created_at"), updatedAt: row.decode(forColumn: "updated_at"))
  }

  public func insert(_ c: Conversation) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT INTO conversation (id, user_id, title, model, system_prompt, temperature, thinking, tools,
            created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          c.id, c.userID, c.title, c.model, c.systemPrompt, c.temperature, c.thinking, c.tools, c.createdAt,
          c.updatedAt,
        ])
    }
  }

  public func conversation(id: String, userID: String) throws -> Conversation? {
    try db.read { db in
      try Row.fetchOne(
        db, sql: "SELECT * FROM conversation WHERE id = ? AND user_id = ?", arguments: [id, userID]
      ).map(Self.conversation(from:))
    }
  }

  public func conversations(userID: String, matching query: String?) throws -> [Conversation] {
    try db.read { db in
      var sql = "SELECT * FROM conversation c WHERE c.user_id = ?"
      var args: [any DatabaseValueConvertible] = [userID]
      if let query, !query.isEmpty {
        // LIKE with the wildcards in the query escaped, so '%' and '_' match themselves.
        let pattern =
          "%"
          + query.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
          .replacingOccurrences(of: "_", with: "\\_") + "%"
        sql += """
           AND (c.title LIKE ? ESCAPE '\\' OR EXISTS (
            SELECT 1 FROM message m WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\'))
          """
        args += [pattern, pattern]
      }
      sql += " ORDER BY c.updated_at DESC, c.rowid DESC"
      return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap {
        Self.decodeRow($0, table: "conversation", Self.conversation(from:))
      }
    }
  }

  public func update(_ c: Conversation) throws {
    try db.write { db in
      try db.execute(
        sql: """
          UPDATE conversation SET title = ?, model = ?, system_prompt = ?, temperature = ?, thinking = ?,
            tools = ?, updated_at = ?
          WHERE id = ? AND user_id = ?
          """,
        arguments: [
          c.title, c.model, c.systemPrompt, c.temperature, c.thinking, c.tools, c.updatedAt, c.id, c.userID,
        ])
    }
  }

  public func deleteConversation(id: String, userID: String) throws -> Bool {
    try db.write { db in
      try db.execute(
        sql:
          "DELETE FROM message WHERE conversation_id IN (SELECT id FROM conversation WHERE id = ? AND user_id = ?)",
        arguments: [id, userID])
      try db.execute(sql: "DELETE FROM conversation WHERE id = ? AND user_id = ?", arguments: [id, userID])
      return db.changesCount > 0
    }
  }

  public func messages(conversationID: String) throws -> [ConversationMessage] {
    try db.read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM message WHERE conversation_id = ? ORDER BY seq", arguments: [conversationID]
      ).compactMap { row in
        Self.decodeRow(row, table: "message") {
          try ConversationMessage(
            id: $0.decode(forColumn: "id"), conversationID: $0.decode(forColumn: "conversation_id"),
            role: $0.decode(forColumn: "role"), content: $0.decode(forColumn: "content"),
            reasoning: $0.decode(forColumn: "reasoning"), finishReason: $0.decode(forColumn: "finish_reason"),
            toolCalls: $0.decode(forColumn: "tool_calls"), toolCallID: $0.decode(forColumn: "tool_call_id"),
            createdAt: $0.decode(forColumn: "created_at"))
        }
      }
    }
  }

  public func append(_ m: ConversationMessage) throws {
    try db.write { db in
      try db.execute(
        sql: """
          INSERT INTO message (id, conversation_id, role, content, reasoning, finish_reason, tool_calls,
            tool_call_id, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          m.id, m.conversationID, m.role, m.content, m.reasoning, m.finishReason, m.toolCalls, m.toolCallID,
          m.createdAt,
        ])
    }
  }

  public func update(_ m: ConversationMessage) throws {
    try db.write { db in
      try db.execute(
        sql:
          "UPDATE message SET content = ?, reasoning = ?, finish_reason = ?, tool_calls = ? WHERE id = ? AND conversation_id = ?",
        arguments: [m.content, m.reasoning, m.finishReason, m.toolCalls, m.id, m.conversationID])
    }
  }

  public func deleteMessages(from messageID: String, conversationID: String) throws {
    try db.write { db in
      try db.execute(
        sql: """
          DELETE FROM message WHERE conversation_id = ?
            AND seq >= (SELECT seq FROM message WHERE id = ? AND conversation_id = ?)
          """,
        arguments: [conversationID, messageID, conversationID])
    }
  }
}
