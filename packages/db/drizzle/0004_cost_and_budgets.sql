ALTER TABLE "api_keys" ADD COLUMN "daily_budget_micros" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "monthly_budget_micros" bigint;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "cost" jsonb;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "cost_micros" bigint DEFAULT 0 NOT NULL;