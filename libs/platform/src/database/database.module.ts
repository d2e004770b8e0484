import { Global, Module } from '@nestjs/common';
import { Database, DatabasePool } from './database';
import { PrismaService } from './prisma.service';
import { Sql } from './sql';

@Global()
@Module({ providers: [DatabasePool, Database, PrismaService, Sql], exports: [DatabasePool, Database, PrismaService, Sql] })
export class DatabaseModule {}
