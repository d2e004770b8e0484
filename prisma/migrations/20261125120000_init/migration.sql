-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "OrganizationStatus" AS ENUM ('active', 'suspended');

-- CreateEnum
CREATE TYPE "TokenScope" AS ENUM ('read', 'write');

-- CreateEnum
CREATE TYPE "StaffRole" AS ENUM ('viewer', 'operator', 'admin');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('api_token', 'staff_user', 'staff_token', 'system');

-- CreateEnum
CREATE TYPE "Provider" AS ENUM ('rke2', 'gke');

-- CreateEnum
CREATE TYPE "VersionState" AS ENUM ('preview', 'supported', 'deprecated', 'eol');

-- CreateEnum
CREATE TYPE "ClusterStatus" AS ENUM ('provisioning', 'running', 'updating', 'upgrading', 'degraded', 'error', 'deleting', 'deleted');

-- CreateEnum
CREATE TYPE "ReleaseChannel" AS ENUM ('rapid', 'regular', 'stable', 'extended');

-- CreateEnum
CREATE TYPE "NodePoolStatus" AS ENUM ('provisioning', 'running', 'updating', 'upgrading', 'error', 'deleting', 'deleted');

-- CreateEnum
CREATE TYPE "OperationType" AS ENUM ('create_cluster', 'update_cluster', 'delete_cluster', 'create_node_pool', 'update_node_pool', 'delete_node_pool', 'scale_node_pool', 'upgrade_cluster', 'rotate_credentials', 'create_backup', 'restore_backup');

-- CreateEnum
CREATE TYPE "OperationStatus" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'needs_attention');

-- CreateEnum
CREATE TYPE "StepStatus" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated');

-- CreateEnum
CREATE TYPE "ExclusionScope" AS ENUM ('no_upgrades', 'no_minor_upgrades', 'no_minor_or_node_upgrades');

-- CreateEnum
CREATE TYPE "BackupKind" AS ENUM ('etcd_snapshot', 'workload');

-- CreateEnum
CREATE TYPE "BackupStatus" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'expired', 'deleted');

-- CreateEnum
CREATE TYPE "AvailabilityState" AS ENUM ('up', 'down', 'unknown');

-- CreateTable
CREATE TABLE "organizations" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "residency" TEXT NOT NULL,
    "plan" TEXT NOT NULL,
    "max_clusters" INTEGER NOT NULL,
    "max_nodes" INTEGER NOT NULL,
    "status" "OrganizationStatus" NOT NULL DEFAULT 'active',
    "suspended_reason" TEXT,
    "resource_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "display_prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" "TokenScope"[],
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_users" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "role" "StaffRole" NOT NULL,
    "oidc_subject" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "staff_users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_api_tokens" (
    "id" TEXT NOT NULL,
    "staff_user_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "display_prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "staff_api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "organization_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response_status" INTEGER NOT NULL,
    "response_body" JSONB NOT NULL,
    "response_headers" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("organization_id","key")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "request_id" TEXT,
    "source_ip" TEXT,
    "changes" JSONB NOT NULL DEFAULT '{}',
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "kubernetes_versions" (
    "provider" "Provider" NOT NULL,
    "minor" TEXT NOT NULL,
    "latest_patch" TEXT NOT NULL,
    "state" "VersionState" NOT NULL,
    "released_at" DATE NOT NULL,
    "maintenance_at" DATE,
    "end_of_support_at" DATE NOT NULL,
    "default_for_new" BOOLEAN NOT NULL DEFAULT false,
    "source" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "kubernetes_versions_pkey" PRIMARY KEY ("provider","minor")
);

-- CreateTable
CREATE TABLE "clusters" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "live_name" TEXT,
    "provider" "Provider" NOT NULL,
    "region" TEXT NOT NULL,
    "release_channel" "ReleaseChannel" NOT NULL DEFAULT 'regular',
    "current_version" TEXT NOT NULL,
    "desired_version" TEXT NOT NULL,
    "status" "ClusterStatus" NOT NULL DEFAULT 'provisioning',
    "status_reason" TEXT,
    "endpoint" TEXT,
    "ca_certificate" TEXT,
    "auto_upgrade" BOOLEAN NOT NULL DEFAULT true,
    "deletion_protection" BOOLEAN NOT NULL DEFAULT false,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "monthly_fee_cents" INTEGER NOT NULL DEFAULT 0,
    "currency" TEXT NOT NULL DEFAULT 'CHF',
    "resource_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "clusters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_pools" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "live_name" TEXT,
    "machine_type" TEXT NOT NULL,
    "node_count" INTEGER NOT NULL,
    "autoscale_min" INTEGER,
    "autoscale_max" INTEGER,
    "version" TEXT NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "taints" JSONB NOT NULL DEFAULT '[]',
    "max_surge" INTEGER NOT NULL DEFAULT 1,
    "max_unavailable" INTEGER NOT NULL DEFAULT 0,
    "status" "NodePoolStatus" NOT NULL DEFAULT 'provisioning',
    "resource_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "node_pools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cluster_credentials" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "sealed" BYTEA NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operations" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "cluster_id" TEXT,
    "type" "OperationType" NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'pending',
    "mutating" BOOLEAN NOT NULL DEFAULT true,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "result" JSONB,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "idempotency_key" TEXT,
    "requested_by_type" "ActorType" NOT NULL,
    "requested_by_id" TEXT NOT NULL,
    "request_id" TEXT,
    "cancel_requested_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "operation_steps" (
    "operation_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" "StepStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "checkpoint" JSONB,
    "error" JSONB,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "operation_steps_pkey" PRIMARY KEY ("operation_id","position")
);

-- CreateTable
CREATE TABLE "outbox_messages" (
    "id" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatched_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "maintenance_windows" (
    "cluster_id" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "days" TEXT[],
    "start_time" TEXT NOT NULL,
    "duration_minutes" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "maintenance_windows_pkey" PRIMARY KEY ("cluster_id")
);

-- CreateTable
CREATE TABLE "maintenance_exclusions" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scope" "ExclusionScope" NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "maintenance_exclusions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backup_schedules" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "BackupKind" NOT NULL,
    "cron" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "retention_count" INTEGER,
    "retain_days" INTEGER,
    "delete_lock_days" INTEGER,
    "included_namespaces" TEXT[],
    "excluded_namespaces" TEXT[],
    "region" TEXT NOT NULL,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "resource_version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "backup_schedules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backups" (
    "id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "schedule_id" TEXT,
    "kind" "BackupKind" NOT NULL,
    "status" "BackupStatus" NOT NULL DEFAULT 'pending',
    "region" TEXT NOT NULL,
    "location" TEXT,
    "size_bytes" BIGINT,
    "cluster_version" TEXT NOT NULL,
    "error" JSONB,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "availability_intervals" (
    "id" BIGSERIAL NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "state" "AvailabilityState" NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "availability_intervals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "probe_results" (
    "id" BIGSERIAL NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "vantage" TEXT NOT NULL,
    "probed_at" TIMESTAMPTZ(3) NOT NULL,
    "success" BOOLEAN NOT NULL,
    "status_code" INTEGER,
    "latency_ms" INTEGER,
    "error_kind" TEXT,

    CONSTRAINT "probe_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sla_reports" (
    "cluster_id" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "sla_version" TEXT NOT NULL,
    "target_percent" DECIMAL(6,3) NOT NULL,
    "availability" DECIMAL(9,6) NOT NULL,
    "downtime_minutes" INTEGER NOT NULL,
    "excluded_minutes" INTEGER NOT NULL,
    "unknown_minutes" INTEGER NOT NULL,
    "breached" BOOLEAN NOT NULL,
    "credit_percent" INTEGER NOT NULL,
    "credit_amount_cents" INTEGER NOT NULL,
    "details" JSONB NOT NULL,
    "final" BOOLEAN NOT NULL DEFAULT false,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sla_reports_pkey" PRIMARY KEY ("cluster_id","month")
);

-- CreateIndex
CREATE UNIQUE INDEX "organizations_name_key" ON "organizations"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_secret_hash_key" ON "api_tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "api_tokens_organization_id_id_idx" ON "api_tokens"("organization_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "staff_users_email_key" ON "staff_users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "staff_users_oidc_subject_key" ON "staff_users"("oidc_subject");

-- CreateIndex
CREATE UNIQUE INDEX "staff_api_tokens_secret_hash_key" ON "staff_api_tokens"("secret_hash");

-- CreateIndex
CREATE INDEX "idempotency_records_expires_at_idx" ON "idempotency_records"("expires_at");

-- CreateIndex
CREATE INDEX "audit_events_organization_id_id_idx" ON "audit_events"("organization_id", "id");

-- CreateIndex
CREATE INDEX "audit_events_target_type_target_id_idx" ON "audit_events"("target_type", "target_id");

-- CreateIndex
CREATE INDEX "clusters_organization_id_id_idx" ON "clusters"("organization_id", "id");

-- CreateIndex
CREATE INDEX "clusters_status_idx" ON "clusters"("status");

-- CreateIndex
CREATE UNIQUE INDEX "clusters_organization_id_live_name_key" ON "clusters"("organization_id", "live_name");

-- CreateIndex
CREATE INDEX "node_pools_organization_id_cluster_id_id_idx" ON "node_pools"("organization_id", "cluster_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "node_pools_cluster_id_live_name_key" ON "node_pools"("cluster_id", "live_name");

-- CreateIndex
CREATE INDEX "cluster_credentials_cluster_id_purpose_idx" ON "cluster_credentials"("cluster_id", "purpose");

-- CreateIndex
CREATE INDEX "operations_organization_id_id_idx" ON "operations"("organization_id", "id");

-- CreateIndex
CREATE INDEX "operations_cluster_id_status_idx" ON "operations"("cluster_id", "status");

-- CreateIndex
CREATE INDEX "operations_status_updated_at_idx" ON "operations"("status", "updated_at");

-- CreateIndex
CREATE INDEX "outbox_messages_dispatched_at_id_idx" ON "outbox_messages"("dispatched_at", "id");

-- CreateIndex
CREATE INDEX "maintenance_exclusions_cluster_id_starts_at_idx" ON "maintenance_exclusions"("cluster_id", "starts_at");

-- CreateIndex
CREATE UNIQUE INDEX "backup_schedules_cluster_id_name_key" ON "backup_schedules"("cluster_id", "name");

-- CreateIndex
CREATE INDEX "backups_organization_id_cluster_id_id_idx" ON "backups"("organization_id", "cluster_id", "id");

-- CreateIndex
CREATE INDEX "availability_intervals_cluster_id_started_at_idx" ON "availability_intervals"("cluster_id", "started_at");

-- CreateIndex
CREATE INDEX "probe_results_cluster_id_probed_at_idx" ON "probe_results"("cluster_id", "probed_at");

-- CreateIndex
CREATE INDEX "probe_results_probed_at_idx" ON "probe_results"("probed_at");

-- CreateIndex
CREATE INDEX "sla_reports_organization_id_month_idx" ON "sla_reports"("organization_id", "month");

-- CreateIndex
CREATE INDEX "sla_reports_month_breached_idx" ON "sla_reports"("month", "breached");

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "staff_api_tokens" ADD CONSTRAINT "staff_api_tokens_staff_user_id_fkey" FOREIGN KEY ("staff_user_id") REFERENCES "staff_users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_pools" ADD CONSTRAINT "node_pools_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_credentials" ADD CONSTRAINT "cluster_credentials_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operations" ADD CONSTRAINT "operations_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "operation_steps" ADD CONSTRAINT "operation_steps_operation_id_fkey" FOREIGN KEY ("operation_id") REFERENCES "operations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "maintenance_exclusions" ADD CONSTRAINT "maintenance_exclusions_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backup_schedules" ADD CONSTRAINT "backup_schedules_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backups" ADD CONSTRAINT "backups_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backups" ADD CONSTRAINT "backups_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "backup_schedules"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "availability_intervals" ADD CONSTRAINT "availability_intervals_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sla_reports" ADD CONSTRAINT "sla_reports_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

