-- Steward: clean-up after the vendor confirmed the transfer of [XT_deid].
-- It drops the credential, the SQL Agent job and the de-identified copy. Dropping the copy
-- cannot be undone: run this only after the vendor's confirmation.

USE [master];
IF EXISTS (SELECT 1 FROM sys.credentials WHERE name = N'https://vendoracct.blob.core.windows.net/hospital-xt')
    DROP CREDENTIAL [https://vendoracct.blob.core.windows.net/hospital-xt];
GO

IF EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = N'Steward backup of XT_deid')
    EXEC msdb.dbo.sp_delete_job @job_name = N'Steward backup of XT_deid', @delete_history = 1;
GO

IF DB_ID(N'XT_deid') IS NOT NULL
BEGIN
    ALTER DATABASE [XT_deid] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;
    DROP DATABASE [XT_deid];
END;
GO
