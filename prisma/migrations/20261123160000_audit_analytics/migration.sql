-- CreateTable
CREATE TABLE "audits" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "run_key" TEXT NOT NULL,
    "platform" "Platform" NOT NULL,
    "run_session_id" UUID,
    "audited_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "findings" JSONB NOT NULL,

    CONSTRAINT "audits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_summaries" (
    "run_key" TEXT NOT NULL,
    "platform" "Platform" NOT NULL,
    "game" TEXT,
    "agent" TEXT,
    "source" TEXT,
    "platform_session_id" TEXT,
    "run_session_id" UUID,
    "streams" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(6),
    "ended_at" TIMESTAMPTZ(6),
    "duration_ms" DOUBLE PRECISION,
    "score" DOUBLE PRECISION,
    "lives_lost" INTEGER,
    "inputs" INTEGER NOT NULL,
    "inputs_per_minute" DOUBLE PRECISION,
    "reaction_p50_ms" DOUBLE PRECISION,
    "reaction_p95_ms" DOUBLE PRECISION,
    "gaps" INTEGER NOT NULL,
    "snapshot_status" TEXT,
    "reward_status" TEXT,
    "audit_status" TEXT,
    "extra" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),

    CONSTRAINT "run_summaries_pkey" PRIMARY KEY ("run_key")
);

-- CreateIndex
CREATE INDEX "audits_run_key_audited_at_idx" ON "audits"("run_key", "audited_at");

-- CreateIndex
CREATE INDEX "run_summaries_platform_started_at_idx" ON "run_summaries"("platform", "started_at");

-- CreateIndex
CREATE INDEX "run_summaries_game_idx" ON "run_summaries"("game");

-- CreateIndex
CREATE INDEX "run_summaries_agent_idx" ON "run_summaries"("agent");
