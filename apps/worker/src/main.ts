import 'reflect-metadata';
import { runProcess } from '@capstan/platform';
import { startWorker } from './start-worker';

runProcess(startWorker);
