import { DNS_LABEL, DNS_LABEL_MAX, isLabelKey, isLabelValue } from '@capstan/domain';
import { z } from './zod';

/** A DNS-1123 label: what Kubernetes accepts as a name, and what ends up in hostnames. */
export const dnsLabel = z
  .string()
  .max(DNS_LABEL_MAX, `must be at most ${DNS_LABEL_MAX} characters`)
  .regex(DNS_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting with a letter')
  .openapi({ example: 'prod-zrh' });

/** Kubernetes-style labels: at most 64, keys and values as Kubernetes validates them. */
export const labels = z
  .record(z.string().max(253).refine(isLabelKey, 'is not a valid label key'), z.string().max(63).refine(isLabelValue, 'is not a valid label value'))
  .refine((value) => Object.keys(value).length <= 64, 'at most 64 labels')
  .openapi({ example: { env: 'prod', team: 'payments' } });

export const idOf = (prefix: string) =>
  z
    .string()
    .max(64)
    .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be an id starting with ${prefix}_`)
    .openapi({ example: `${prefix}_01jd3z6q4e5k8w2x9v7b0c1n2m` });

export const timestamp = z.string().datetime().openapi({ example: '2026-11-25T12:00:00.000Z' });

// One message for every way a page size can be wrong (not a number, fractional, out of range or
// beyond what a number holds), given once: the check that fails first stops the others.
const PAGE_SIZE = { error: 'must be a whole number from 1 to 100', abort: true } as const;

export const paginationQuery = {
  limit: z.coerce.number(PAGE_SIZE).int(PAGE_SIZE).min(1, PAGE_SIZE).max(100, PAGE_SIZE).default(20).openapi({ description: 'Page size, 1 to 100' }),
  cursor: z.string().max(128).optional().openapi({ description: 'The next_cursor of the previous page' }),
};

export function page<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    })
    .openapi(name);
}

/** Versioned objects carry an etag: send it back in If-Match to update only what you read. */
export const etag = z.string().openapi({ example: '"3"' });

/**
 * The body of a write that takes no input. Sending none is the usual call; a body that is sent
 * must be an empty object, so a field meant for another route is a 400 rather than ignored.
 */
export const noInputBody = z.object({}).strict().openapi('NoInput').optional();

/**
 * The query of a route that takes no parameters: a parameter that is sent is refused like any
 * unknown field (docs/input-rules.md, "Unknown fields"), so a misspelt `?watch=` or `?fields=` is a
 * 400 naming it rather than a 200 that silently ignored it. A route that declares no query is
 * checked against this one.
 */
export const noQuery = z.object({}).strict();
