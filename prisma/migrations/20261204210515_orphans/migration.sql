-- What a failed create left at the provider when undoing it failed too: recorded for staff and
-- cleaned up by the reconciler (docs/operations-engine.md, Failures for good).

-- CreateEnum
CREATE TYPE "OrphanKind" AS ENUM ('cluster', 'node_pool');

-- CreateTable
CREATE TABLE "orphans" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "cluster_id" TEXT,
    "operation_id" TEXT NOT NULL,
    "provider" "Provider" NOT NULL,
    "kind" "OrphanKind" NOT NULL,
    "external_cluster" TEXT NOT NULL,
    "external_name" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "orphans_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "orphans_resolved_at_next_attempt_at_idx" ON "orphans"("resolved_at", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "orphans_operation_id_kind_external_cluster_external_name_key" ON "orphans"("operation_id", "kind", "external_cluster", "external_name");

