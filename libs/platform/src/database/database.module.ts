import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { Sql } from './sql';

@Global()
@Module({ providers: [PrismaService, Sql], exports: [PrismaService, Sql] })
export class DatabaseModule {}
