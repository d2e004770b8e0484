-- AlterTable
ALTER TABLE "backups" ADD COLUMN     "delete_locked_until" TIMESTAMPTZ(3);

