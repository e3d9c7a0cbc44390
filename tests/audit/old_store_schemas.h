// The schemas of stores older ztgate versions wrote (store.cpp keeps reading
// and appending to them), for the tests that open such stores.
#pragma once

namespace ztgate::audit {

// Version 1's records table, as stores written before version 2 have it.
inline constexpr const char* kVersion1Schema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES('chain_uid', '00112233445566778899aabbccddeeff');
CREATE TABLE records(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  principal TEXT NOT NULL,
  agent TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  findings TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX records_time ON records(time_ms);
CREATE INDEX records_principal ON records(principal);
CREATE INDEX records_action ON records(action);
CREATE INDEX records_resource ON records(resource);
CREATE INDEX records_decision ON records(decision);
CREATE INDEX records_agent ON records(agent) WHERE agent <> '';
CREATE INDEX records_findings ON records(findings) WHERE findings <> '';
)sql";

// A version 2 store as ztgate wrote them before version 3 (its key salt fixed).
inline constexpr const char* kVersion2Schema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES('chain_uid', '00112233445566778899aabbccddeeff');
INSERT INTO meta(key, value) VALUES('schema_version', '2');
INSERT INTO meta(key, value) VALUES('index_key', '0123456789abcdef');
CREATE TABLE records(
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  principal TEXT NOT NULL,
  agent TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  decision TEXT NOT NULL,
  findings TEXT NOT NULL,
  principal_key INTEGER NOT NULL,
  agent_key INTEGER NOT NULL,
  action_key INTEGER NOT NULL,
  resource_key INTEGER NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX records_time ON records(time_ms);
CREATE INDEX records_principal_key ON records(principal_key);
CREATE INDEX records_agent_key ON records(agent_key) WHERE agent_key <> 0;
CREATE INDEX records_action_key ON records(action_key);
CREATE INDEX records_resource_key ON records(resource_key);
CREATE INDEX records_decision ON records(decision);
)sql";

}  // namespace ztgate::audit
