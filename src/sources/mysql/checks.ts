import type { Connection, RowDataPacket } from "mysql2/promise";

/** The server settings a CDC pipe depends on, as SHOW GLOBAL VARIABLES reports them. */
export interface ServerSettings {
  readonly version: string;
  readonly logBin?: string;
  readonly binlogFormat?: string;
  readonly binlogRowImage?: string;
  readonly binlogRowMetadata?: string;
  /** MySQL's gtid_mode (MariaDB has GTIDs always and no such variable). */
  readonly gtidMode?: string;
}

export function isMariaDb(s: Pick<ServerSettings, "version">): boolean {
  return /mariadb/i.test(s.version);
}

/** Whether replication can resume by GTID: always on MariaDB, with gtid_mode=ON on MySQL. */
export function gtidAvailable(s: ServerSettings): boolean {
  return isMariaDb(s) || s.gtidMode?.toUpperCase() === "ON";
}

/**
 * What must change on the server before the pipe can replicate, one sentence each naming the
 * setting, its value and the value needed (empty: ready). binlog_row_metadata=FULL is asked
 * where the server has it (MySQL 8.0+, MariaDB 10.5+): without it the binlog reader must
 * look column names up in information_schema, which is wrong for events written before a
 * later ALTER TABLE and loses ENUM/SET values that contain commas.
 */
export function settingProblems(s: ServerSettings): string[] {
  const problems: string[] = [];
  const is = (v: string | undefined, want: string): boolean => v?.toUpperCase() === want;
  if (!is(s.logBin, "ON") && s.logBin !== "1") problems.push(`the binary log is off (log_bin=${s.logBin ?? "unset"}): start the server with --log-bin`);
  if (!is(s.binlogFormat, "ROW")) problems.push(`binlog_format is ${s.binlogFormat ?? "unset"}: set binlog_format=ROW`);
  if (!is(s.binlogRowImage, "FULL")) problems.push(`binlog_row_image is ${s.binlogRowImage ?? "unset"}: set binlog_row_image=FULL`);
  if (s.binlogRowMetadata !== undefined && !is(s.binlogRowMetadata, "FULL")) problems.push(`binlog_row_metadata is ${s.binlogRowMetadata}: set binlog_row_metadata=FULL`);
  return problems;
}

interface VariableRow extends RowDataPacket {
  Variable_name: string;
  Value: string;
}

export async function readServerSettings(conn: Connection): Promise<ServerSettings> {
  const [rows] = await conn.query<VariableRow[]>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'gtid_mode')",
  );
  const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const pick = (name: string): Record<string, string> => {
    const value = v.get(name);
    return value === undefined ? {} : { [name]: value };
  };
  const o = { ...pick("log_bin"), ...pick("binlog_format"), ...pick("binlog_row_image"), ...pick("binlog_row_metadata"), ...pick("gtid_mode") };
  return {
    version: v.get("version") ?? "",
    ...(o.log_bin === undefined ? {} : { logBin: o.log_bin }),
    ...(o.binlog_format === undefined ? {} : { binlogFormat: o.binlog_format }),
    ...(o.binlog_row_image === undefined ? {} : { binlogRowImage: o.binlog_row_image }),
    ...(o.binlog_row_metadata === undefined ? {} : { binlogRowMetadata: o.binlog_row_metadata }),
    ...(o.gtid_mode === undefined ? {} : { gtidMode: o.gtid_mode }),
  };
}
