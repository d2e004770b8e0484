import 'reflect-metadata';
import { runProcess } from '@capstan/platform';
import { startApi } from './start-api';

runProcess(startApi);
