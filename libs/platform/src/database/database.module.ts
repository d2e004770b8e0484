import { Global, Module } from '@nestjs/common';
import { Database, DatabasePool } from './database';
import { PrismaService } from './prisma.service';

@Global()
@Module({ providers: [DatabasePool, Database, PrismaService], exports: [DatabasePool, Database, PrismaService] })
export class DatabaseModule {}
