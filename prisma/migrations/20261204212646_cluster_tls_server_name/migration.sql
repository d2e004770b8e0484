-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "tls_server_name" TEXT;

