-- Steward: de-identification of a SQL Server database in place, by policy h.yaml
-- policy sha256 75d3da19211d749e, key fingerprint 4719d3c017f1a952. Generated; do not edit.
--
-- Run it on the standalone copy only, on SQL Server 2019 or later (it needs UTF-8 collations to
-- hash text as the engine does), in SQLCMD mode, as a member of db_owner (sysadmin for the
-- plan-cache and recovery steps). The key is read from a sqlcmd file holding
-- ':setvar StewardKey 0x…' (written by 'steward deid script --key-include FILE', readable by its
-- owner only), named by the variable StewardKeyFile, never on a command line:
--   Linux:   sqlcmd -S SERVER -d DATABASE -b -f 65001 -v StewardKeyFile=/secure/steward-key.sql -i deid.sql
--   Windows: sqlcmd -S SERVER -d DATABASE -b -f 65001 -v StewardKeyFile="C:\secure\steward-key.sql" -i deid.sql
--   SSMS:    Query > SQLCMD Mode, connected to DATABASE, then run these two lines:
--              :setvar StewardKeyFile "C:\secure\steward-key.sql"
--              :r "C:\scripts\deid.sql"
--
-- What it does, in order (each step recorded in dbo.steward_progress; run it again after an
-- interruption and it goes on where it stopped, never transforming a value twice; a run with
-- another key or policy is refused):
--   refuses change data capture and system-versioned policy tables (both keep the originals);
--   Query Store off and cleared, SIMPLE recovery;
--   self-test against values Steward's engine computed; every table, column and type checked;
--   the two ends of every foreign key on a rewritten column checked to get the same rule;
--   those foreign keys saved and dropped, the rewritten tables' triggers saved and disabled;
--   each table rewritten in a transaction of its own, CHECKPOINT after each;
--   foreign keys re-created WITH CHECK, triggers re-enabled; every rewritten table and its
--   indexes rebuilt; sp_clean_db_free_space; CHECKPOINT; the log shrunk; the plan cache of
--   the database cleared; the key dropped with the session's #steward_key.
-- Then back it up (steward transfer script). Rules reproduced: keep, null, hash (hex alphabet, character columns), pseudonym, placeholder (fixed text, hostname, email, IPv4 ip), shift_date, generalize year, month and zip3.

:on error exit
:r $(StewardKeyFile)
SET NOCOUNT ON;
SET XACT_ABORT ON;

-- Batch 1: prepare.
IF (SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()) = 1
BEGIN
    RAISERROR(N'steward: change data capture is enabled: it copies every change, the original values included, into cdc tables; disable it first (EXEC sys.sp_cdc_disable_db)', 16, 1);
    RETURN;
END;
IF EXISTS (SELECT 1 FROM sys.tables WHERE temporal_type = 2 AND object_id IN (OBJECT_ID(N'[o''k]]].[we[ird]')))
BEGIN
    RAISERROR(N'steward: a policy table is system-versioned: every UPDATE would copy the original row into its history table; turn SYSTEM_VERSIONING off and put the history table in the policy', 16, 1);
    RETURN;
END;
IF EXISTS (SELECT 1 FROM sys.database_query_store_options WHERE actual_state <> 0)
BEGIN
    ALTER DATABASE CURRENT SET QUERY_STORE CLEAR ALL;
    ALTER DATABASE CURRENT SET QUERY_STORE = OFF;
    PRINT N'steward: Query Store cleared and turned off (it keeps query texts and plans inside the database)';
END;
IF (SELECT recovery_model FROM sys.databases WHERE database_id = DB_ID()) <> 3
BEGIN
    ALTER DATABASE CURRENT SET RECOVERY SIMPLE;
    PRINT N'steward: recovery model set to SIMPLE (a standalone copy needs no log backups)';
END;
IF OBJECT_ID(N'dbo.steward_progress', N'U') IS NULL
    CREATE TABLE dbo.steward_progress (step nvarchar(450) NOT NULL PRIMARY KEY, key_fingerprint varchar(16) NOT NULL,
        policy_sha256 varchar(16) NOT NULL, rows_changed bigint NULL, done_at datetime2(0) NOT NULL DEFAULT SYSUTCDATETIME());
IF EXISTS (SELECT 1 FROM dbo.steward_progress WHERE key_fingerprint <> '4719d3c017f1a952' OR policy_sha256 <> '75d3da19211d749e')
BEGIN
    RAISERROR(N'steward: this database was de-identified, in part or whole, with another key or policy (see dbo.steward_progress): a run on top would transform values twice; start again from a fresh copy', 16, 1);
    RETURN;
END;
IF EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'finished')
    PRINT N'steward: this database was de-identified by this script before; the steps recorded in dbo.steward_progress are skipped';
GO

-- Batch 2: the key, into the session's #steward_key only (the one batch whose text holds it).
IF OBJECT_ID(N'tempdb..#steward_key') IS NOT NULL DROP TABLE #steward_key;
CREATE TABLE #steward_key (ipad varbinary(64) NOT NULL, opad varbinary(64) NOT NULL);
DECLARE @key varbinary(max) = CONVERT(varbinary(max), '$(StewardKey)', 1);
DECLARE @k binary(64), @ipad varbinary(64) = 0x, @opad varbinary(64) = 0x, @i int = 1;
IF @key IS NULL OR DATALENGTH(@key) < 16
BEGIN
    RAISERROR(N'steward: no key, or a key shorter than 16 bytes: give StewardKeyFile, the file steward deid script --key-include wrote', 16, 1);
    RETURN;
END;
IF DATALENGTH(@key) > 64 SET @key = HASHBYTES('SHA2_256', @key);
SET @k = CONVERT(binary(64), @key);
WHILE @i <= 64
BEGIN
    SET @ipad = @ipad + CONVERT(binary(1), CONVERT(tinyint, CONVERT(tinyint, SUBSTRING(@k, @i, 1)) ^ 54));
    SET @opad = @opad + CONVERT(binary(1), CONVERT(tinyint, CONVERT(tinyint, SUBSTRING(@k, @i, 1)) ^ 92));
    SET @i += 1;
END;
INSERT #steward_key VALUES (@ipad, @opad);
GO

-- Batch 3: self-test, checks, then the work, each step recorded.
-- Self-test 1: the key is the one the script was generated for (fingerprint 4719d3c017f1a952).
IF SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), 'steward key fingerprint'))), 1, 8) <> 0x4719d3c017f1a952
BEGIN
    RAISERROR(N'steward: wrong key: its fingerprint is not 4719d3c017f1a952', 16, 1);
    RETURN;
END;

-- Self-test 2: T-SQL gives what Steward's engine gives for these inputs.
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), RTRIM(N'MRN0012345      ')) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 16))), 0x01) <> CONVERT(varbinary(max), N'797b8ed9d67e9b57')
BEGIN
    RAISERROR(N'steward self-test 1 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash of a char(16) column, input 1');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), RTRIM(N'MRN0012345')) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 16))), 0x01) <> CONVERT(varbinary(max), N'797b8ed9d67e9b57')
BEGIN
    RAISERROR(N'steward self-test 2 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash of a char(16) column, input 2');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), RTRIM(N'MRN 7 	  ')) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 16))), 0x01) <> CONVERT(varbinary(max), N'0e567ec7f2a68fcb')
BEGIN
    RAISERROR(N'steward self-test 3 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash of a char(16) column, input 3');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), RTRIM(N'   ')) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 16))), 0x01) <> CONVERT(varbinary(max), N'4e838db83ed9d61d')
BEGIN
    RAISERROR(N'steward self-test 4 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash of a char(16) column, input 4');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), RTRIM(N'Zoë  ')) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 16))), 0x01) <> CONVERT(varbinary(max), N'5a6164b46deae86f')
BEGIN
    RAISERROR(N'steward self-test 5 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash of a char(16) column, input 5');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'4e838db83ed9d61d67486e03584555d13f1d18b66ee884386663cf21fe842a86')
BEGIN
    RAISERROR(N'steward self-test 6 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 6');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'4e838db83ed')
BEGIN
    RAISERROR(N'steward self-test 7 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 7');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus 9T1R')
BEGIN
    RAISERROR(N'steward self-test 8 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 8');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp 9T1R')
BEGIN
    RAISERROR(N'steward self-test 9 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 9');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'9T1R')
BEGIN
    RAISERROR(N'steward self-test 10 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 10');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-9a7e120d.invalid')
BEGIN
    RAISERROR(N'steward self-test 11 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 11');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-9a7e120d')
BEGIN
    RAISERROR(N'steward self-test 12 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 12');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-b0985b9cab@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 13 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 13');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-b0985b9cab')
BEGIN
    RAISERROR(N'steward self-test 14 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 14');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'797b8ed9d67e9b574af331b0b423f8803073a7b7523fbb63f8f44ad496d3eabb')
BEGIN
    RAISERROR(N'steward self-test 15 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 15');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'797b8ed9d67')
BEGIN
    RAISERROR(N'steward self-test 16 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 16');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus BY7W')
BEGIN
    RAISERROR(N'steward self-test 17 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 17');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp BY7W')
BEGIN
    RAISERROR(N'steward self-test 18 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 18');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'BY7W')
BEGIN
    RAISERROR(N'steward self-test 19 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 19');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-e22453d8.invalid')
BEGIN
    RAISERROR(N'steward self-test 20 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 20');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-e22453d8')
BEGIN
    RAISERROR(N'steward self-test 21 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 21');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-b0a15ffa41@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 22 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 22');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'MRN0012345') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-b0a15ffa41')
BEGIN
    RAISERROR(N'steward self-test 23 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 23');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'f9f52a4539e48168f63cff42b2171eb88f7d355707f50b7fbcfda3be47ed695e')
BEGIN
    RAISERROR(N'steward self-test 24 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 24');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'f9f52a4539e')
BEGIN
    RAISERROR(N'steward self-test 25 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 25');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus 6PT5')
BEGIN
    RAISERROR(N'steward self-test 26 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 26');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp 6PT5')
BEGIN
    RAISERROR(N'steward self-test 27 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 27');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'6PT5')
BEGIN
    RAISERROR(N'steward self-test 28 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 28');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-ee0ed0fa.invalid')
BEGIN
    RAISERROR(N'steward self-test 29 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 29');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-ee0ed0fa')
BEGIN
    RAISERROR(N'steward self-test 30 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 30');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-9f65482a1b@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 31 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 31');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'Jane Doe') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-9f65482a1b')
BEGIN
    RAISERROR(N'steward self-test 32 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 32');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'ca925e11f2a5b41e334978723ea902f3f45d95c5560ca585550d6390a7a897a6')
BEGIN
    RAISERROR(N'steward self-test 33 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 33');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'ca925e11f2a')
BEGIN
    RAISERROR(N'steward self-test 34 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 34');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus SMC6')
BEGIN
    RAISERROR(N'steward self-test 35 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 35');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp SMC6')
BEGIN
    RAISERROR(N'steward self-test 36 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 36');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'SMC6')
BEGIN
    RAISERROR(N'steward self-test 37 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 37');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-2ee603ee.invalid')
BEGIN
    RAISERROR(N'steward self-test 38 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 38');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-2ee603ee')
BEGIN
    RAISERROR(N'steward self-test 39 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 39');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-0422ad09a7@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 40 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 40');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE ') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-0422ad09a7')
BEGIN
    RAISERROR(N'steward self-test 41 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 41');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'1a73044d6d7084b4579b2849e9f5c7aa31ec0ee38e636692764fc3490222625e')
BEGIN
    RAISERROR(N'steward self-test 42 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 42');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'1a73044d6d7')
BEGIN
    RAISERROR(N'steward self-test 43 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 43');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus 82HR')
BEGIN
    RAISERROR(N'steward self-test 44 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 44');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp 82HR')
BEGIN
    RAISERROR(N'steward self-test 45 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 45');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'82HR')
BEGIN
    RAISERROR(N'steward self-test 46 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 46');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-56ee7a43.invalid')
BEGIN
    RAISERROR(N'steward self-test 47 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 47');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-56ee7a43')
BEGIN
    RAISERROR(N'steward self-test 48 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 48');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-b8b8c5285d@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 49 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 49');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'O''Brien	Seán
') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-b8b8c5285d')
BEGIN
    RAISERROR(N'steward self-test 50 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 50');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'525a40ade76dfe535d39ea53db723557c84a94c5d2e546e219b7eb8df92e96ac')
BEGIN
    RAISERROR(N'steward self-test 51 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 51');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'525a40ade76')
BEGIN
    RAISERROR(N'steward self-test 52 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 52');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus A9D4')
BEGIN
    RAISERROR(N'steward self-test 53 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 53');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp A9D4')
BEGIN
    RAISERROR(N'steward self-test 54 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 54');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'A9D4')
BEGIN
    RAISERROR(N'steward self-test 55 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 55');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-fac1f0f8.invalid')
BEGIN
    RAISERROR(N'steward self-test 56 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 56');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-fac1f0f8')
BEGIN
    RAISERROR(N'steward self-test 57 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 57');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-c1fa28d48b@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 58 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 58');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'張偉') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-c1fa28d48b')
BEGIN
    RAISERROR(N'steward self-test 59 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 59');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'23698d7462e8a2946c91cc402a46958bc6827b55294af420dae92672cf10c09f')
BEGIN
    RAISERROR(N'steward self-test 60 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 60');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'23698d7462e')
BEGIN
    RAISERROR(N'steward self-test 61 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 61');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus REZW')
BEGIN
    RAISERROR(N'steward self-test 62 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 62');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp REZW')
BEGIN
    RAISERROR(N'steward self-test 63 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 63');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'REZW')
BEGIN
    RAISERROR(N'steward self-test 64 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 64');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-a4f06756.invalid')
BEGIN
    RAISERROR(N'steward self-test 65 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 65');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-a4f06756')
BEGIN
    RAISERROR(N'steward self-test 66 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 66');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-ef3ba3d6cb@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 67 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 67');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'José 🙂 Müller') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-ef3ba3d6cb')
BEGIN
    RAISERROR(N'steward self-test 68 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 68');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 64))), 0x01) <> CONVERT(varbinary(max), N'4cb8aba5ecfd7bb3d70eb91ef84e25614bde675ecfbf7830d6c35283efcf21a0')
BEGIN
    RAISERROR(N'steward self-test 69 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 0, input 69');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(LOWER(CONVERT(varchar(64), HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), 11))), 0x01) <> CONVERT(varbinary(max), N'4cb8aba5ecf')
BEGIN
    RAISERROR(N'steward self-test 70 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'hash, width 11, input 70');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 0 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Campus 9JWA')
BEGIN
    RAISERROR(N'steward self-test 71 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 0, input 71');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 9 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'Camp 9JWA')
BEGIN
    RAISERROR(N'steward self-test 72 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 9, input 72');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE 3 WHEN 1 THEN N'' WHEN 2 THEN N'' WHEN 3 THEN N'' WHEN 4 THEN N'' WHEN 5 THEN N'' WHEN 6 THEN N'C ' WHEN 7 THEN N'Ca ' WHEN 8 THEN N'Cam ' WHEN 9 THEN N'Camp ' WHEN 10 THEN N'Campu ' ELSE N'Campus ' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2), NCHAR(9), N' '), NCHAR(10), N' '), NCHAR(11), N' '), NCHAR(12), N' '), NCHAR(13), N' '), NCHAR(133), N' '), NCHAR(160), N' '), NCHAR(5760), N' '), NCHAR(8192), N' '), NCHAR(8193), N' '), NCHAR(8194), N' '), NCHAR(8195), N' '), NCHAR(8196), N' '), NCHAR(8197), N' '), NCHAR(8198), N' '), NCHAR(8199), N' '), NCHAR(8200), N' '), NCHAR(8201), N' '), NCHAR(8202), N' '), NCHAR(8232), N' '), NCHAR(8233), N' '), NCHAR(8239), N' '), NCHAR(8287), N' '), NCHAR(12288), N' '))), N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, '0123456789ABCDEFGHJKMNPQRSTVWXYZ' AS c) AS s))), 0x01) <> CONVERT(varbinary(max), N'9JWA')
BEGIN
    RAISERROR(N'steward self-test 73 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{pseudonym: Campus}, width 3, input 73');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 0 = 0 OR 0 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 0) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-dc2439b2.invalid')
BEGIN
    RAISERROR(N'steward self-test 74 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 0, input 74');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN 15 = 0 OR 15 >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, 15) END FROM (SELECT LOWER(CONVERT(varchar(8), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00686f737400 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4), 2)) AS t) AS s))), 0x01) <> CONVERT(varbinary(max), N'host-dc2439b2')
BEGIN
    RAISERROR(N'steward self-test 75 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: hostname}, width 15, input 75');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 4000))), 0x01) <> CONVERT(varbinary(max), N'user-1cbed30e75@example.invalid')
BEGIN
    RAISERROR(N'steward self-test 76 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 0, input 76');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00656d61696c00 + CONVERT(varbinary(max), CONVERT(varchar(max), LOWER(CONVERT(nvarchar(max), N'ws01.stmarys.local') COLLATE Latin1_General_100_BIN2) COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 5), 2)) + N'@example.invalid', 15))), 0x01) <> CONVERT(varbinary(max), N'user-1cbed30e75')
BEGIN
    RAISERROR(N'steward self-test 77 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: email}, width 15, input 77');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'192.168.1.20') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.87.68')
BEGIN
    RAISERROR(N'steward self-test 78 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 78');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'192.168.1.20') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.87.68')
BEGIN
    RAISERROR(N'steward self-test 79 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 79');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'10.0.0.1/24') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.71.123/24')
BEGIN
    RAISERROR(N'steward self-test 80 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 80');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'10.0.0.1/24') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.71.12')
BEGIN
    RAISERROR(N'steward self-test 81 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 81');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N' 172.16.5.4 ') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.182.56')
BEGIN
    RAISERROR(N'steward self-test 82 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 82');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N' 172.16.5.4 ') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.182.5')
BEGIN
    RAISERROR(N'steward self-test 83 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 83');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'010.1.1.1') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.29')
BEGIN
    RAISERROR(N'steward self-test 84 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 84');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'010.1.1.1') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.2')
BEGIN
    RAISERROR(N'steward self-test 85 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 85');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'1.2.3') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.29')
BEGIN
    RAISERROR(N'steward self-test 86 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 86');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'1.2.3') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.2')
BEGIN
    RAISERROR(N'steward self-test 87 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 87');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'1.2.3.4.5') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.29')
BEGIN
    RAISERROR(N'steward self-test 88 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 88');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'1.2.3.4.5') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.2')
BEGIN
    RAISERROR(N'steward self-test 89 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 89');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'256.1.1.1') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.29')
BEGIN
    RAISERROR(N'steward self-test 90 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 90');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'256.1.1.1') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.2')
BEGIN
    RAISERROR(N'steward self-test 91 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 91');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'[1].2.3.4') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.29')
BEGIN
    RAISERROR(N'steward self-test 92 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 92');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'[1].2.3.4') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.18.107.2')
BEGIN
    RAISERROR(N'steward self-test 93 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 93');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'0.0.0.0') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.183.137')
BEGIN
    RAISERROR(N'steward self-test 94 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 94');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'0.0.0.0') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.183.1')
BEGIN
    RAISERROR(N'steward self-test 95 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 95');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 4000) ELSE LEFT(N'198.18.107.29', 4000) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'255.255.255.255/32') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.25.186/32')
BEGIN
    RAISERROR(N'steward self-test 96 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 0, input 96');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.a IS NULL THEN NULL WHEN CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 WHEN PARSENAME(s.a, 4) IS NULL OR LEN(PARSENAME(s.a, 4)) > 3 OR (LEN(PARSENAME(s.a, 4)) > 1 AND LEFT(PARSENAME(s.a, 4), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 4)) > 255 THEN 0 WHEN PARSENAME(s.a, 3) IS NULL OR LEN(PARSENAME(s.a, 3)) > 3 OR (LEN(PARSENAME(s.a, 3)) > 1 AND LEFT(PARSENAME(s.a, 3), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 3)) > 255 THEN 0 WHEN PARSENAME(s.a, 2) IS NULL OR LEN(PARSENAME(s.a, 2)) > 3 OR (LEN(PARSENAME(s.a, 2)) > 1 AND LEFT(PARSENAME(s.a, 2), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 2)) > 255 THEN 0 WHEN PARSENAME(s.a, 1) IS NULL OR LEN(PARSENAME(s.a, 1)) > 3 OR (LEN(PARSENAME(s.a, 1)) > 1 AND LEFT(PARSENAME(s.a, 1), 1) = N'0') OR TRY_CONVERT(int, PARSENAME(s.a, 1)) > 255 THEN 0 ELSE 1 END = 1 THEN LEFT(N'198.' + CONVERT(nvarchar(3), 18 + CONVERT(int, SUBSTRING(d.d, 1, 1)) % 2) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 2, 1))) + N'.' + CONVERT(nvarchar(3), CONVERT(int, SUBSTRING(d.d, 3, 1))) + s.suffix, 12) ELSE LEFT(N'198.18.107.29', 12) END FROM (SELECT LTRIM(RTRIM(CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN LEFT(v0.v, CHARINDEX(N'/', v0.v) - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a, CASE WHEN CHARINDEX(N'/', v0.v) > 0 THEN SUBSTRING(v0.v, CHARINDEX(N'/', v0.v), 4000) ELSE N'' END AS suffix FROM (SELECT CONVERT(nvarchar(max), N'255.255.255.255/32') AS v) AS v0) AS s CROSS APPLY (SELECT HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00697000 + CONVERT(varbinary(max), CONVERT(varchar(max), s.a COLLATE Latin1_General_100_BIN2_UTF8)))) AS d) AS d))), 0x01) <> CONVERT(varbinary(max), N'198.19.25.18')
BEGIN
    RAISERROR(N'steward self-test 97 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: ip}, width 12, input 97');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'02100')
BEGIN
    RAISERROR(N'steward self-test 98 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 98');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'021')
BEGIN
    RAISERROR(N'steward self-test 99 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 99');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'02100')
BEGIN
    RAISERROR(N'steward self-test 100 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 100');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139-1234'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'02100')
BEGIN
    RAISERROR(N'steward self-test 101 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 101');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139-1234'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'021')
BEGIN
    RAISERROR(N'steward self-test 102 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 102');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'02139-1234'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'02100')
BEGIN
    RAISERROR(N'steward self-test 103 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 103');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'03601'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'00000')
BEGIN
    RAISERROR(N'steward self-test 104 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 104');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'03601'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 105 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 105');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'03601'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'00000')
BEGIN
    RAISERROR(N'steward self-test 106 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 106');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N' 94110 '))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'94100')
BEGIN
    RAISERROR(N'steward self-test 107 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 107');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N' 94110 '))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'941')
BEGIN
    RAISERROR(N'steward self-test 108 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 108');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N' 94110 '))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'94100')
BEGIN
    RAISERROR(N'steward self-test 109 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 109');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'sw1a 1aa'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'SW1')
BEGIN
    RAISERROR(N'steward self-test 110 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 110');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'sw1a 1aa'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'SW1')
BEGIN
    RAISERROR(N'steward self-test 111 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 111');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'sw1a 1aa'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'SW1')
BEGIN
    RAISERROR(N'steward self-test 112 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 112');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'12'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 113 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 113');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'12'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 114 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 114');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'12'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 115 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 115');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'9411'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'941')
BEGIN
    RAISERROR(N'steward self-test 116 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 116');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'9411'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'941')
BEGIN
    RAISERROR(N'steward self-test 117 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 117');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'9411'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'941')
BEGIN
    RAISERROR(N'steward self-test 118 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 118');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'abcde'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'ABC')
BEGIN
    RAISERROR(N'steward self-test 119 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 119');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'abcde'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'ABC')
BEGIN
    RAISERROR(N'steward self-test 120 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 120');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'abcde'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'ABC')
BEGIN
    RAISERROR(N'steward self-test 121 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 121');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (0 = 0 OR 0 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'8930'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 122 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 0, input 122');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (3 = 0 OR 3 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'8930'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 123 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 3, input 123');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), (SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (N'036', N'059', N'063', N'102', N'203', N'556', N'692', N'790', N'821', N'823', N'830', N'831', N'878', N'879', N'884', N'890', N'893') THEN N'000' + s.t ELSE s.p + s.t END FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND (5 = 0 OR 5 >= 5) THEN N'00' ELSE N'' END AS t FROM (SELECT LTRIM(RTRIM(CONVERT(nvarchar(max), N'8930'))) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s))), 0x01) <> CONVERT(varbinary(max), N'000')
BEGIN
    RAISERROR(N'steward self-test 124 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{generalize: zip3}, width 5, input 124');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CASE WHEN N'x' IS NULL THEN NULL ELSE CASE 6 WHEN 1 THEN N'S' WHEN 2 THEN N'SE' WHEN 3 THEN N'SER' WHEN 4 THEN N'SERV' WHEN 5 THEN N'SERVE' WHEN 6 THEN N'SERVER' WHEN 7 THEN N'SERVER-' WHEN 8 THEN N'SERVER-R' WHEN 9 THEN N'SERVER-RE' WHEN 10 THEN N'SERVER-RED' WHEN 11 THEN N'SERVER-REDA' WHEN 12 THEN N'SERVER-REDAC' WHEN 13 THEN N'SERVER-REDACT' WHEN 14 THEN N'SERVER-REDACTE' ELSE N'SERVER-REDACTED' END END)), 0x01) <> CONVERT(varbinary(max), N'SERVER')
BEGIN
    RAISERROR(N'steward self-test 125 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{placeholder: SERVER-REDACTED}, width 6, input 125');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N''), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-03-20')
BEGIN
    RAISERROR(N'steward self-test 126 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 126');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'MRN0012345'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-06-27')
BEGIN
    RAISERROR(N'steward self-test 127 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 127');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'Jane Doe'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-06-07')
BEGIN
    RAISERROR(N'steward self-test 128 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 128');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'  Zoë   LEFÈVRE '), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'1999-07-27')
BEGIN
    RAISERROR(N'steward self-test 129 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 129');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'O''Brien	Seán
'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'1999-11-17')
BEGIN
    RAISERROR(N'steward self-test 130 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 130');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'張偉'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'1999-07-04')
BEGIN
    RAISERROR(N'steward self-test 131 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 131');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'José 🙂 Müller'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-03-10')
BEGIN
    RAISERROR(N'steward self-test 132 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 132');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'ws01.stmarys.local'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-01-06')
BEGIN
    RAISERROR(N'steward self-test 133 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 133');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'12345'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-05-19')
BEGIN
    RAISERROR(N'steward self-test 134 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 134');
    RETURN;
END;
IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), CONVERT(varchar(10), DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 731) - 365 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), N'-7'), N'') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), DATEFROMPARTS(2000, 1, 1)), 23))), 0x01) <> CONVERT(varbinary(max), N'2000-02-28')
BEGIN
    RAISERROR(N'steward self-test 135 failed (%s): this server computes differently from the engine; nothing was changed', 16, 1, N'{shift_date: {by: id, days: 365}}, entity 135');
    RETURN;
END;

-- Checks: every table and column exists with a type its rule suits.
DECLARE @cols TABLE (id int PRIMARY KEY, w int, type sysname, nullable varchar(3), input nvarchar(300), by_input nvarchar(300));
DECLARE @type sysname, @len int, @nullable varchar(3), @missing nvarchar(max), @n bigint, @id int, @bytype sysname;
DECLARE @set nvarchar(max), @sql nvarchar(max), @ws nvarchar(10), @cut nvarchar(10), @hw nvarchar(10), @in nvarchar(300), @by nvarchar(300);
-- The rewritten columns and tables, for the foreign keys, triggers and rebuilds below.
IF OBJECT_ID(N'tempdb..#steward_cols') IS NOT NULL DROP TABLE #steward_cols;
CREATE TABLE #steward_cols (object_id int NOT NULL, column_id int NOT NULL, rule_text nvarchar(400) NOT NULL, w int NOT NULL, PRIMARY KEY (object_id, column_id));
IF OBJECT_ID(N'tempdb..#steward_tables') IS NOT NULL DROP TABLE #steward_tables;
CREATE TABLE #steward_tables (object_id int NOT NULL PRIMARY KEY);
SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), CONCAT(TABLE_SCHEMA, N'.', TABLE_NAME)), N', ') FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = N'BASE TABLE' AND CONCAT(TABLE_SCHEMA, N'.', TABLE_NAME) NOT IN (N'o''k].we[ird', N'dbo.steward_progress', N'dbo.steward_fk', N'dbo.steward_trigger');
IF @missing IS NOT NULL
BEGIN
    RAISERROR(N'steward: tables not in the policy, whose default is error: %s', 16, 1, @missing);
    RETURN;
END;

-- [o'k]]].[we[ird]
IF OBJECT_ID(N'[o''k]]].[we[ird]', N'U') IS NULL
BEGIN
    RAISERROR(N'steward: table %s.%s does not exist', 16, 1, N'o''k]', N'we[ird');
    RETURN;
END;
SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), COLUMN_NAME), N', ') FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'o''k]' AND TABLE_NAME = N'we[ird' AND COLUMN_NAME NOT IN (N'x]''; DROP TABLE t; --', N'a''b', N'n]');
IF @missing IS NOT NULL
BEGIN
    RAISERROR(N'steward: table %s.%s has columns the policy does not list (default: error): %s', 16, 1, N'o''k]', N'we[ird', @missing);
    RETURN;
END;
SELECT @type = DATA_TYPE, @len = CHARACTER_MAXIMUM_LENGTH, @nullable = IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'o''k]' AND TABLE_NAME = N'we[ird' AND COLUMN_NAME = N'x]''; DROP TABLE t; --';
IF @@ROWCOUNT = 0
BEGIN
    RAISERROR(N'steward: column %s.%s.%s does not exist', 16, 1, N'o''k]', N'we[ird', N'x]''; DROP TABLE t; --');
    RETURN;
END;
IF @type IN (N'tinyint', N'smallint', N'int', N'bigint')
BEGIN
    RAISERROR(N'steward: %s.%s.%s is an integer column: the engine hashes integers by a keyed permutation the T-SQL script does not reproduce; use steward deid run', 16, 1, N'o''k]', N'we[ird', N'x]''; DROP TABLE t; --');
    RETURN;
END;
IF @type NOT IN (N'char', N'varchar', N'nchar', N'nvarchar')
BEGIN
    RAISERROR(N'steward: %s.%s.%s is of type %s; rule %s applies to char, varchar, nchar, nvarchar in this script', 16, 1, N'o''k]', N'we[ird', N'x]''; DROP TABLE t; --', @type, N'hash');
    RETURN;
END;
INSERT @cols VALUES (1, CASE WHEN @len > 0 THEN @len ELSE 0 END, @type, @nullable, CASE WHEN @type IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(N'x]''; DROP TABLE t; --') + N')' ELSE QUOTENAME(N'x]''; DROP TABLE t; --') END, NULL);
INSERT #steward_cols VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'), COLUMNPROPERTY(OBJECT_ID(N'[o''k]]].[we[ird]'), N'x]''; DROP TABLE t; --', 'ColumnId'), N'hash', CASE WHEN @len > 0 THEN @len ELSE 0 END);
IF NOT EXISTS (SELECT 1 FROM #steward_tables WHERE object_id = OBJECT_ID(N'[o''k]]].[we[ird]')) INSERT #steward_tables VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'));
SELECT @type = DATA_TYPE, @len = CHARACTER_MAXIMUM_LENGTH, @nullable = IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'o''k]' AND TABLE_NAME = N'we[ird' AND COLUMN_NAME = N'a''b';
IF @@ROWCOUNT = 0
BEGIN
    RAISERROR(N'steward: column %s.%s.%s does not exist', 16, 1, N'o''k]', N'we[ird', N'a''b');
    RETURN;
END;
IF @type NOT IN (N'date', N'datetime', N'datetime2', N'smalldatetime', N'datetimeoffset')
BEGIN
    RAISERROR(N'steward: %s.%s.%s is of type %s; rule %s applies to date, datetime, datetime2, smalldatetime, datetimeoffset in this script', 16, 1, N'o''k]', N'we[ird', N'a''b', @type, N'{shift_date: {by: x]''; DROP TABLE t; --, days: 30}}');
    RETURN;
END;
SET @bytype = (SELECT DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'o''k]' AND TABLE_NAME = N'we[ird' AND COLUMN_NAME = N'x]''; DROP TABLE t; --');
IF @bytype IS NULL
BEGIN
    RAISERROR(N'steward: %s.%s.%s: shift_date by column %s does not exist', 16, 1, N'o''k]', N'we[ird', N'a''b', N'x]''; DROP TABLE t; --');
    RETURN;
END;
INSERT @cols VALUES (2, CASE WHEN @len > 0 THEN @len ELSE 0 END, @type, @nullable, CASE WHEN @type IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(N'a''b') + N')' ELSE QUOTENAME(N'a''b') END, CASE WHEN @bytype IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(N'x]''; DROP TABLE t; --') + N')' ELSE QUOTENAME(N'x]''; DROP TABLE t; --') END);
INSERT #steward_cols VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'), COLUMNPROPERTY(OBJECT_ID(N'[o''k]]].[we[ird]'), N'a''b', 'ColumnId'), N'{shift_date: {by: x]''; DROP TABLE t; --, days: 30}}', CASE WHEN @len > 0 THEN @len ELSE 0 END);
IF NOT EXISTS (SELECT 1 FROM #steward_tables WHERE object_id = OBJECT_ID(N'[o''k]]].[we[ird]')) INSERT #steward_tables VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'));
SELECT @type = DATA_TYPE, @len = CHARACTER_MAXIMUM_LENGTH, @nullable = IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'o''k]' AND TABLE_NAME = N'we[ird' AND COLUMN_NAME = N'n]';
IF @@ROWCOUNT = 0
BEGIN
    RAISERROR(N'steward: column %s.%s.%s does not exist', 16, 1, N'o''k]', N'we[ird', N'n]');
    RETURN;
END;
IF @type NOT IN (N'char', N'varchar', N'nchar', N'nvarchar')
BEGIN
    RAISERROR(N'steward: %s.%s.%s is of type %s; rule %s applies to char, varchar, nchar, nvarchar in this script', 16, 1, N'o''k]', N'we[ird', N'n]', @type, N'{pseudonym: P''fx}');
    RETURN;
END;
INSERT @cols VALUES (3, CASE WHEN @len > 0 THEN @len ELSE 0 END, @type, @nullable, CASE WHEN @type IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(N'n]') + N')' ELSE QUOTENAME(N'n]') END, NULL);
INSERT #steward_cols VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'), COLUMNPROPERTY(OBJECT_ID(N'[o''k]]].[we[ird]'), N'n]', 'ColumnId'), N'{pseudonym: P''fx}', CASE WHEN @len > 0 THEN @len ELSE 0 END);
IF NOT EXISTS (SELECT 1 FROM #steward_tables WHERE object_id = OBJECT_ID(N'[o''k]]].[we[ird]')) INSERT #steward_tables VALUES (OBJECT_ID(N'[o''k]]].[we[ird]'));

-- Foreign keys: both ends of one on a rewritten column must get the same rule and width, or the
-- join would break (the engine refuses such a policy too).
SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(OBJECT_SCHEMA_NAME(k.constraint_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(k.constraint_object_id))
    + N' (' + COL_NAME(k.parent_object_id, k.parent_column_id) + N' -> ' + COL_NAME(k.referenced_object_id, k.referenced_column_id) + N')'), N', ')
FROM sys.foreign_key_columns AS k
LEFT JOIN #steward_cols AS p ON p.object_id = k.parent_object_id AND p.column_id = k.parent_column_id
LEFT JOIN #steward_cols AS r ON r.object_id = k.referenced_object_id AND r.column_id = k.referenced_column_id
WHERE (p.object_id IS NOT NULL OR r.object_id IS NOT NULL)
  AND (p.object_id IS NULL OR r.object_id IS NULL OR p.rule_text <> r.rule_text OR p.w <> r.w);
IF @missing IS NOT NULL
BEGIN
    RAISERROR(N'steward: foreign keys whose two ends get different rules or widths (joins would break): %s; give both ends the same rule', 16, 1, @missing);
    RETURN;
END;

-- Foreign keys with a rewritten column at either end: saved in dbo.steward_fk, then dropped, in
-- one transaction (an UPDATE of a referenced key would fail with error 547, and a cascading one
-- would rewrite the referencing rows a second time).
IF NOT EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'foreign keys dropped')
BEGIN
    BEGIN TRANSACTION;
    IF OBJECT_ID(N'dbo.steward_fk', N'U') IS NULL
        CREATE TABLE dbo.steward_fk (id int IDENTITY PRIMARY KEY, name nvarchar(600) NOT NULL, drop_sql nvarchar(max) NOT NULL, create_sql nvarchar(max) NOT NULL);
    INSERT dbo.steward_fk (name, drop_sql, create_sql)
    SELECT QUOTENAME(OBJECT_SCHEMA_NAME(fk.object_id)) + N'.' + QUOTENAME(fk.name),
        N'ALTER TABLE ' + n.pt + N' DROP CONSTRAINT ' + QUOTENAME(fk.name) + N';',
        N'ALTER TABLE ' + n.pt + CASE WHEN fk.is_not_trusted = 1 OR fk.is_disabled = 1 THEN N' WITH NOCHECK' ELSE N' WITH CHECK' END
            + N' ADD CONSTRAINT ' + QUOTENAME(fk.name) + N' FOREIGN KEY (' + c.cols + N') REFERENCES ' + n.rt + N' (' + c.refcols + N')'
            + N' ON DELETE ' + REPLACE(fk.delete_referential_action_desc, N'_', N' ') + N' ON UPDATE ' + REPLACE(fk.update_referential_action_desc, N'_', N' ')
            + CASE WHEN fk.is_not_for_replication = 1 THEN N' NOT FOR REPLICATION' ELSE N'' END + N';'
            + CASE WHEN fk.is_disabled = 1 THEN N' ALTER TABLE ' + n.pt + N' NOCHECK CONSTRAINT ' + QUOTENAME(fk.name) + N';' ELSE N'' END
    FROM sys.foreign_keys AS fk
    CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(fk.parent_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.parent_object_id)) AS pt,
        QUOTENAME(OBJECT_SCHEMA_NAME(fk.referenced_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.referenced_object_id)) AS rt) AS n
    CROSS APPLY (SELECT STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(COL_NAME(k.parent_object_id, k.parent_column_id))), N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS cols,
        STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(COL_NAME(k.referenced_object_id, k.referenced_column_id))), N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS refcols
        FROM sys.foreign_key_columns AS k WHERE k.constraint_object_id = fk.object_id) AS c
    WHERE EXISTS (SELECT 1 FROM sys.foreign_key_columns AS k JOIN #steward_cols AS r
        ON (r.object_id = k.parent_object_id AND r.column_id = k.parent_column_id) OR (r.object_id = k.referenced_object_id AND r.column_id = k.referenced_column_id)
        WHERE k.constraint_object_id = fk.object_id)
    ORDER BY fk.object_id;
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = drop_sql FROM dbo.steward_fk WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
    INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT N'foreign keys dropped', '4719d3c017f1a952', '75d3da19211d749e', (SELECT COUNT_BIG(*) FROM dbo.steward_fk);
    COMMIT TRANSACTION;
    PRINT CONCAT(N'steward: ', (SELECT COUNT(*) FROM dbo.steward_fk), N' foreign keys saved and dropped');
END;

-- DML triggers of the rewritten tables that are enabled: saved in dbo.steward_trigger, then
-- disabled (an audit trigger would copy the originals into its own table).
IF NOT EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'triggers disabled')
BEGIN
    BEGIN TRANSACTION;
    IF OBJECT_ID(N'dbo.steward_trigger', N'U') IS NULL
        CREATE TABLE dbo.steward_trigger (id int IDENTITY PRIMARY KEY, disable_sql nvarchar(max) NOT NULL, enable_sql nvarchar(max) NOT NULL);
    INSERT dbo.steward_trigger (disable_sql, enable_sql)
    SELECT N'DISABLE TRIGGER ' + n.tr + N' ON ' + n.t + N';', N'ENABLE TRIGGER ' + n.tr + N' ON ' + n.t + N';'
    FROM sys.triggers AS tr
    CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(tr.object_id)) + N'.' + QUOTENAME(tr.name) AS tr,
        QUOTENAME(OBJECT_SCHEMA_NAME(tr.parent_id)) + N'.' + QUOTENAME(OBJECT_NAME(tr.parent_id)) AS t) AS n
    WHERE tr.parent_class = 1 AND tr.is_disabled = 0 AND tr.parent_id IN (SELECT object_id FROM #steward_tables)
    ORDER BY tr.object_id;
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = disable_sql FROM dbo.steward_trigger WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
    INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT N'triggers disabled', '4719d3c017f1a952', '75d3da19211d749e', (SELECT COUNT_BIG(*) FROM dbo.steward_trigger);
    COMMIT TRANSACTION;
    PRINT CONCAT(N'steward: ', (SELECT COUNT(*) FROM dbo.steward_trigger), N' triggers saved and disabled');
END;

-- Updates: one transaction per table, recorded in dbo.steward_progress with it.

-- [o'k]]].[we[ird]
IF EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'table [o''k]]].[we[ird]')
    PRINT CONCAT(N'steward: ', N'o''k].we[ird', N' was de-identified by an earlier run: skipped');
ELSE
BEGIN
    SET @set = N'';
    SELECT @len = w, @type = type, @nullable = nullable, @in = input, @by = by_input FROM @cols WHERE id = 1;
    SELECT @ws = CONVERT(nvarchar(10), @len), @cut = CONVERT(nvarchar(10), CASE WHEN @len > 0 THEN @len ELSE 4000 END), @hw = CONVERT(nvarchar(10), CASE WHEN @len > 0 AND @len < 64 THEN @len ELSE 64 END);
    SET @set += N', ' + QUOTENAME(N'x]''; DROP TABLE t; --') + N' = ' + REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(N'LEFT(LOWER(CONVERT(varchar(64), HASHBYTES(''SHA2_256'', (SELECT opad FROM #steward_key) + HASHBYTES(''SHA2_256'', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), CONVERT(nvarchar(max), {col}) COLLATE Latin1_General_100_BIN2_UTF8)))), 2)), {hw})', N'{col}', @in), N'{by}', ISNULL(@by, N'NULL')), N'{w}', @ws), N'{cut}', @cut), N'{hw}', @hw);
    SELECT @len = w, @type = type, @nullable = nullable, @in = input, @by = by_input FROM @cols WHERE id = 2;
    SELECT @ws = CONVERT(nvarchar(10), @len), @cut = CONVERT(nvarchar(10), CASE WHEN @len > 0 THEN @len ELSE 4000 END), @hw = CONVERT(nvarchar(10), CASE WHEN @len > 0 AND @len < 64 THEN @len ELSE 64 END);
    SET @set += N', ' + QUOTENAME(N'a''b') + N' = ' + REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(N'DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) % 61) - 30 FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES(''SHA2_256'', (SELECT opad FROM #steward_key) + HASHBYTES(''SHA2_256'', (SELECT ipad FROM #steward_key) + 0x00736869667400 + CONVERT(varbinary(max), CONVERT(varchar(max), ISNULL(CONVERT(nvarchar(max), {by}), N'''') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 8)) AS x) AS s), {col})', N'{col}', @in), N'{by}', ISNULL(@by, N'NULL')), N'{w}', @ws), N'{cut}', @cut), N'{hw}', @hw);
    SELECT @len = w, @type = type, @nullable = nullable, @in = input, @by = by_input FROM @cols WHERE id = 3;
    SELECT @ws = CONVERT(nvarchar(10), @len), @cut = CONVERT(nvarchar(10), CASE WHEN @len > 0 THEN @len ELSE 4000 END), @hw = CONVERT(nvarchar(10), CASE WHEN @len > 0 AND @len < 64 THEN @len ELSE 64 END);
    SET @set += N', ' + QUOTENAME(N'n]') + N' = ' + REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(N'(SELECT CASE {w} WHEN 1 THEN N'''' WHEN 2 THEN N'''' WHEN 3 THEN N'''' WHEN 4 THEN N'''' WHEN 5 THEN N'''' WHEN 6 THEN N''P '' WHEN 7 THEN N''P'''' '' WHEN 8 THEN N''P''''f '' ELSE N''P''''fx '' END + SUBSTRING(s.c, s.x / 134217728 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4194304 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 131072 % 32 + 1, 1) + SUBSTRING(s.c, s.x / 4096 % 32 + 1, 1) FROM (SELECT CONVERT(bigint, SUBSTRING(HASHBYTES(''SHA2_256'', (SELECT opad FROM #steward_key) + HASHBYTES(''SHA2_256'', (SELECT ipad FROM #steward_key) + CONVERT(varbinary(max), CONVERT(varchar(max), REPLACE(REPLACE(REPLACE(LTRIM(RTRIM(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(LOWER(CONVERT(nvarchar(max), {col}) COLLATE Latin1_General_100_BIN2), NCHAR(9), N'' ''), NCHAR(10), N'' ''), NCHAR(11), N'' ''), NCHAR(12), N'' ''), NCHAR(13), N'' ''), NCHAR(133), N'' ''), NCHAR(160), N'' ''), NCHAR(5760), N'' ''), NCHAR(8192), N'' ''), NCHAR(8193), N'' ''), NCHAR(8194), N'' ''), NCHAR(8195), N'' ''), NCHAR(8196), N'' ''), NCHAR(8197), N'' ''), NCHAR(8198), N'' ''), NCHAR(8199), N'' ''), NCHAR(8200), N'' ''), NCHAR(8201), N'' ''), NCHAR(8202), N'' ''), NCHAR(8232), N'' ''), NCHAR(8233), N'' ''), NCHAR(8239), N'' ''), NCHAR(8287), N'' ''), NCHAR(12288), N'' ''))), N'' '', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''''), NCHAR(1) + NCHAR(2), N'' '') COLLATE Latin1_General_100_BIN2_UTF8)))), 1, 4)) AS x, ''0123456789ABCDEFGHJKMNPQRSTVWXYZ'' AS c) AS s)', N'{col}', @in), N'{by}', ISNULL(@by, N'NULL')), N'{w}', @ws), N'{cut}', @cut), N'{hw}', @hw);
    SET @sql = N'UPDATE ' + N'[o''k]]].[we[ird]' + N' SET ' + STUFF(@set, 1, 2, N'') + N'; SET @n = ROWCOUNT_BIG();';
    BEGIN TRANSACTION;
    EXEC sp_executesql @sql, N'@n bigint OUTPUT', @n OUTPUT;
    INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT N'table [o''k]]].[we[ird]', '4719d3c017f1a952', '75d3da19211d749e', @n;
    COMMIT TRANSACTION;
    CHECKPOINT;
    PRINT CONCAT(N'steward: ', N'o''k].we[ird', N': ', @n, N' rows de-identified');
END;
GO

-- Batch 4: finish.
DECLARE @sql nvarchar(max), @id int, @db sysname = DB_NAME();
IF NOT EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'constraints restored')
BEGIN
    BEGIN TRANSACTION;
    -- Re-created WITH CHECK: every row is validated (error 547 names a foreign key whose join broke).
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = create_sql FROM dbo.steward_fk WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = enable_sql FROM dbo.steward_trigger WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
    INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT N'constraints restored', '4719d3c017f1a952', '75d3da19211d749e', NULL;
    DROP TABLE dbo.steward_fk;
    DROP TABLE dbo.steward_trigger;
    COMMIT TRANSACTION;
    PRINT N'steward: foreign keys re-created and validated, triggers re-enabled';
END;

-- Every rewritten table and all its indexes rebuilt: the rows are written anew and the pages
-- the UPDATEs left (old row versions, ghost records, forwarded rows) are given back.
IF OBJECT_ID(N'tempdb..#steward_rebuild') IS NOT NULL DROP TABLE #steward_rebuild;
CREATE TABLE #steward_rebuild (id int IDENTITY PRIMARY KEY, stmt nvarchar(max) NOT NULL);
INSERT #steward_rebuild (stmt)
SELECT CASE WHEN EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = st.object_id AND index_id = 1)
    THEN N'ALTER INDEX ALL ON ' + q.t + N' REBUILD;' -- the clustered index and every other one
    ELSE N'ALTER TABLE ' + q.t + N' REBUILD;' END -- a heap, and with it its nonclustered indexes
FROM #steward_tables AS st CROSS APPLY (SELECT QUOTENAME(OBJECT_SCHEMA_NAME(st.object_id)) + N'.' + QUOTENAME(OBJECT_NAME(st.object_id)) AS t) AS q
ORDER BY st.object_id;
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = stmt FROM #steward_rebuild WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
PRINT N'steward: rewritten tables and their indexes rebuilt';
-- Residue: sp_clean_db_free_space "removes residual information left on database pages because of
-- data modification routines" in every page of every file; then the log is emptied and shrunk.
EXEC sys.sp_clean_db_free_space @dbname = @db;
CHECKPOINT;
IF OBJECT_ID(N'tempdb..#steward_logs') IS NOT NULL DROP TABLE #steward_logs;
CREATE TABLE #steward_logs (id int IDENTITY PRIMARY KEY, stmt nvarchar(max) NOT NULL);
INSERT #steward_logs (stmt) SELECT N'DBCC SHRINKFILE (' + CONVERT(nvarchar(10), file_id) + N', 1) WITH NO_INFOMSGS;' FROM sys.database_files WHERE type = 1;
    SET @id = 0;
    WHILE 1 = 1
    BEGIN
        SELECT TOP (1) @id = id, @sql = stmt FROM #steward_logs WHERE id > @id ORDER BY id;
        IF @@ROWCOUNT = 0 BREAK;
        EXEC sp_executesql @sql;
    END;
CHECKPOINT;
PRINT N'steward: free space cleaned, log checkpointed and shrunk';
-- Query Store stays off and empty; the database's cached plans are dropped; so is the key.
IF EXISTS (SELECT 1 FROM sys.database_query_store_options WHERE actual_state <> 0)
BEGIN
    ALTER DATABASE CURRENT SET QUERY_STORE CLEAR ALL;
    ALTER DATABASE CURRENT SET QUERY_STORE = OFF;
END;
ALTER DATABASE SCOPED CONFIGURATION CLEAR PROCEDURE_CACHE;
DROP TABLE #steward_key;
IF NOT EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'finished')
    INSERT dbo.steward_progress (step, key_fingerprint, policy_sha256, rows_changed) SELECT N'finished', '4719d3c017f1a952', '75d3da19211d749e', NULL;
PRINT N'steward: done; dbo.steward_progress records the steps (table names, the key''s fingerprint, the policy''s digest, row counts; no value)';
GO
