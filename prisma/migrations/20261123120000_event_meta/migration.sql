-- AlterTable
ALTER TABLE "events" ADD COLUMN     "meta" TEXT;
