import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every contract imports zod from here, so `.openapi()` is available on every schema.
extendZodWithOpenApi(z);

export { z };
