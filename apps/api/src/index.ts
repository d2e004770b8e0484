export { createApi, startApi } from './start-api';
