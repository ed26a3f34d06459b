-- Steward: one-time backup of [XT_deid] to https://vendoracct.blob.core.windows.net/hospital-xt, through a SQL Agent job.
-- Replace the placeholder in CREATE CREDENTIAL with the token the vendor sent.
-- Run it after deid.sql has run to its end (it rebuilds the rewritten tables, cleans free space and
-- empties the log, so that the backup's pages hold no old value; see dbo.steward_progress, step finished).
-- Tell the vendor when the job has succeeded; after the vendor confirms, run the clean-up script.

USE [master];
IF EXISTS (SELECT 1 FROM sys.credentials WHERE name = N'https://vendoracct.blob.core.windows.net/hospital-xt')
    DROP CREDENTIAL [https://vendoracct.blob.core.windows.net/hospital-xt];
CREATE CREDENTIAL [https://vendoracct.blob.core.windows.net/hospital-xt] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '<paste the shared-access token here, without the leading ?>';
GO

USE [msdb];
IF EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = N'Steward backup of XT_deid')
    EXEC msdb.dbo.sp_delete_job @job_name = N'Steward backup of XT_deid';
EXEC msdb.dbo.sp_add_job @job_name = N'Steward backup of XT_deid', @enabled = 1, @description = N'One-time backup of the de-identified copy to the vendor''s container, made by Steward.';
EXEC msdb.dbo.sp_add_jobstep @job_name = N'Steward backup of XT_deid', @step_name = N'Backup to URL', @subsystem = N'TSQL', @database_name = N'master',
    @command = N'BACKUP DATABASE [XT_deid] TO URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_1.bak'', URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_2.bak'', URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_3.bak'' WITH COMPRESSION, CHECKSUM, FORMAT, STATS = 5, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536;';
EXEC msdb.dbo.sp_add_jobserver @job_name = N'Steward backup of XT_deid', @server_name = N'(local)';
EXEC msdb.dbo.sp_start_job @job_name = N'Steward backup of XT_deid';
GO

-- Follow the job: the step's message shows the percentage (STATS = 5).
-- SELECT TOP (5) run_status, message FROM msdb.dbo.sysjobhistory h JOIN msdb.dbo.sysjobs j ON j.job_id = h.job_id WHERE j.name = N'Steward backup of XT_deid' ORDER BY instance_id DESC;
-- Check the backup once written: RESTORE VERIFYONLY FROM URL = N'https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_1.bak', URL = N'https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_2.bak', URL = N'https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_3.bak';
