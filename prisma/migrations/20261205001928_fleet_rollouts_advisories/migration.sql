-- CreateEnum
CREATE TYPE "RolloutState" AS ENUM ('active', 'paused', 'halted', 'completed');

-- CreateEnum
CREATE TYPE "RolloutClusterState" AS ENUM ('planned', 'running', 'succeeded', 'failed', 'skipped');

-- CreateTable
CREATE TABLE "upgrade_rollouts" (
    "id" TEXT NOT NULL,
    "state" "RolloutState" NOT NULL DEFAULT 'active',
    "trigger" TEXT NOT NULL,
    "catalogue_fingerprint" TEXT NOT NULL,
    "current_wave" INTEGER NOT NULL DEFAULT 0,
    "max_failure_rate" DOUBLE PRECISION NOT NULL,
    "state_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "upgrade_rollouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rollout_clusters" (
    "rollout_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "wave" INTEGER NOT NULL,
    "tier" TEXT NOT NULL,
    "from_version" TEXT NOT NULL,
    "target_version" TEXT NOT NULL,
    "need_reason" TEXT NOT NULL,
    "planned_start" TIMESTAMPTZ(3) NOT NULL,
    "planned_end" TIMESTAMPTZ(3) NOT NULL,
    "announced_at" TIMESTAMPTZ(3) NOT NULL,
    "state" "RolloutClusterState" NOT NULL DEFAULT 'planned',
    "operation_id" TEXT,
    "state_reason" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rollout_clusters_pkey" PRIMARY KEY ("rollout_id","cluster_id")
);

-- CreateTable
CREATE TABLE "advisories" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "component" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "cvss" DOUBLE PRECISION,
    "affected" JSONB NOT NULL,
    "fixed_in" TEXT[],
    "remedy" TEXT NOT NULL,
    "published_on" TEXT NOT NULL,
    "sources" TEXT[],
    "seeded" BOOLEAN NOT NULL DEFAULT true,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "advisories_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "upgrade_rollouts_state_id_idx" ON "upgrade_rollouts"("state", "id");

-- CreateIndex
CREATE INDEX "rollout_clusters_cluster_id_state_idx" ON "rollout_clusters"("cluster_id", "state");

-- CreateIndex
CREATE INDEX "rollout_clusters_state_planned_start_idx" ON "rollout_clusters"("state", "planned_start");

-- CreateIndex
CREATE INDEX "advisories_component_idx" ON "advisories"("component");

-- AddForeignKey
ALTER TABLE "rollout_clusters" ADD CONSTRAINT "rollout_clusters_rollout_id_fkey" FOREIGN KEY ("rollout_id") REFERENCES "upgrade_rollouts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

