import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HelmTemplateError, renderChart } from './helm-template';

/** The chart renderer against Go template semantics `helm template` would show. */
describe('renderChart', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-chart-'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "4.5"\n');
    writeFileSync(join(dir, 'values.yaml'), 'mode: a\nitems: [x, y]\nnested: { keep: 1, drop: 2 }\nname: ""\n');
    writeFileSync(join(dir, 'templates', '_helpers.tpl'), '{{- define "demo.label" -}}\n{{ $.who }}-{{ .who | default "nobody" }}\n{{- end }}\n');
    writeFileSync(
      join(dir, 'templates', 'config.yaml'),
      [
        '{{- /* a comment */ -}}',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ printf "%s-%s" .Release.Name .Chart.Name | trunc 9 | trimSuffix "-" }}',
        'data:',
        '  {{- if eq .Values.mode "b" }}',
        '  mode: b',
        '  {{- else if eq .Values.mode "a" }}',
        '  mode: a',
        '  {{- else }}',
        '  mode: other',
        '  {{- end }}',
        '  {{- range $i, $item := .Values.items }}',
        '  item{{ $i }}: {{ $item | quote }}',
        '  {{- end }}',
        '  label: {{ include "demo.label" (dict "who" "me") | quote }}',
        '  {{- with .Values.name }}',
        '  name: {{ . }}',
        '  {{- else }}',
        '  name: unnamed',
        '  {{- end }}',
        '  nested: {{- toYaml .Values.nested | nindent 4 }}',
        '  version: {{ .Chart.AppVersion | quote }}',
      ].join('\n'),
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders conditions, ranges, includes, trim markers and values merged the way Helm merges them', () => {
    const { objects } = renderChart(dir, { release: 'release', values: { nested: { drop: null, added: 3 } } });
    expect(objects).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'release-d' },
        data: { mode: 'a', item0: 'x', item1: 'y', label: 'me-me', name: 'unnamed', nested: { keep: 1, added: 3 }, version: '4.5' },
      },
    ]);
    expect(renderChart(dir, { values: { mode: 'c', name: 'given' } }).objects[0]).toMatchObject({ data: { mode: 'other', name: 'given' } });
  });

  it('throws on what it does not know instead of rendering it wrongly', () => {
    writeFileSync(join(dir, 'templates', 'bad.yaml'), 'x: {{ .Values.mode | upper }}\n');
    try {
      expect(() => renderChart(dir)).toThrow(HelmTemplateError);
      expect(() => renderChart(dir)).toThrow('function "upper" is not supported by this renderer');
    } finally {
      rmSync(join(dir, 'templates', 'bad.yaml'));
    }
  });
});
