-- Billing owns money (docs/billing.md, "From fees on clusters to prices"). Clusters lose their
-- monthly_fee_cents: nothing ever set it, so every credit of a closed SLA month was 0 whatever
-- its tier. Those months are restated once, here: a frozen report keeps its credit percentage,
-- and the 0-cent amount and the fee it was taken from leave its details, so nothing can read
-- them as what was owed. Billing computes the amount from the percentage and the month's charges.
UPDATE "sla_reports"
SET "details" = ("details" - 'monthlyFeeCents') #- '{credit,amountCents}'
WHERE "details" ? 'monthlyFeeCents' OR ("details" -> 'credit') ? 'amountCents';

-- CreateEnum
CREATE TYPE "UsageKind" AS ENUM ('cluster_fee', 'node', 'addon', 'backup_storage');

-- AlterTable
ALTER TABLE "clusters" DROP COLUMN "monthly_fee_cents";

-- AlterTable
ALTER TABLE "sla_reports" DROP COLUMN "credit_amount_cents";

-- CreateTable
CREATE TABLE "prices" (
    "id" TEXT NOT NULL,
    "kind" "UsageKind" NOT NULL,
    "sku" TEXT NOT NULL,
    "unit_price" DECIMAL(20,9) NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'CHF',
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "seed_revision" INTEGER,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_intervals" (
    "id" BIGSERIAL NOT NULL,
    "organization_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "kind" "UsageKind" NOT NULL,
    "resource_id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "quantity" DECIMAL(20,9) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "usage_intervals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_lines" (
    "month" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "cluster_id" TEXT,
    "cluster_name" TEXT,
    "region" TEXT,
    "category" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "quantity" DECIMAL(24,9) NOT NULL,
    "unit" TEXT NOT NULL,
    "unit_price" DECIMAL(20,9) NOT NULL,
    "amount_cents" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "charge_period_start" TIMESTAMPTZ(3) NOT NULL,
    "charge_period_end" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("month","organization_id","position")
);

-- CreateTable
CREATE TABLE "invoice_months" (
    "month" TEXT NOT NULL,
    "frozen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoice_months_pkey" PRIMARY KEY ("month")
);

-- CreateIndex
CREATE UNIQUE INDEX "prices_kind_sku_effective_from_key" ON "prices"("kind", "sku", "effective_from");

-- CreateIndex
CREATE INDEX "usage_intervals_started_at_idx" ON "usage_intervals"("started_at");

-- CreateIndex
CREATE INDEX "usage_intervals_organization_id_started_at_idx" ON "usage_intervals"("organization_id", "started_at");

-- CreateIndex
CREATE UNIQUE INDEX "usage_intervals_kind_resource_id_started_at_key" ON "usage_intervals"("kind", "resource_id", "started_at");

