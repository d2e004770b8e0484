import 'reflect-metadata';
import { runProcess } from '@capstan/platform';
import { startSlaMonitor } from './start-sla-monitor';

runProcess(startSlaMonitor);
