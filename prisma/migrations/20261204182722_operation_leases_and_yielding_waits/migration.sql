-- AlterTable
ALTER TABLE "operations" ADD COLUMN     "wake_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "operation_steps" ADD COLUMN     "retrying_since" TIMESTAMPTZ(3),
ADD COLUMN     "wait" JSONB;

-- CreateTable
CREATE TABLE "operation_leases" (
    "key" TEXT NOT NULL,
    "operation_id" TEXT NOT NULL,
    "owner" TEXT,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "operation_leases_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "operation_leases_operation_id_idx" ON "operation_leases"("operation_id");

