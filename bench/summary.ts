/**
 * The bench's figures at a glance: one line per figure with its target, printed after the JSON. Only
 * the sections that ran appear; the JSON holds everything else (plans, samples, what each figure means).
 */
type Json = Record<string, any>;

const row = (figure: string, value: unknown, target = '') => ({ figure, value: value === undefined ? '—' : String(value), target });

export function summaryRows(result: Json): { figure: string; value: string; target: string }[] {
  const rows = [row('machine', `${result.load?.cpus} cores, load ${result.load?.average}, ${result.database}, node ${result.node}`)];
  if (result.declareAi) rows.push(row('declare ai through the router (per second, p95 ms)', `${result.declareAi.perSecond}/s, p95 ${result.declareAi.p95Ms} ms`));
  for (const platform of ['slack', 'teams'] as const) {
    const ack = result.ack?.[platform];
    if (ack) rows.push(row(`${platform} ack p99 bot / bare (p50 ratio)`, `${ack.ratio.p99} (${ack.ratio.p50})`, '≤ 1.2'));
  }
  const replies = result.ack?.teams?.replies;
  if (replies) rows.push(row('teams reply at the connector p99 bot / bare (p50 ratio)', `${replies.replyRatio.p99} (${replies.replyRatio.p50})`));
  for (const run of result.campaign?.runs ?? []) {
    rows.push(row(`campaign to ${run.people}: rate / ceiling, dup, missing, peak RSS`,
      `${run.sustainedRatioToCeiling}, ${run.duplicates}, ${run.missing}, ${run.botPeakRssMb} MB`, '≥ 0.95, 0, 0, < 250 MB'));
  }
  for (const day of ['nothingDue', 'quietDay', 'heavyDay'] as const) {
    const sweeps = result.registerScale?.[day]?.sweeps as Json | undefined;
    if (!sweeps) continue;
    const slowest = Object.entries(sweeps).sort(([, a], [, b]) => b.ms - a.ms)[0];
    const perMessage = slowest[1].msPerMessage === undefined ? '' : ` (${slowest[1].summary.messages} messages, ${slowest[1].msPerMessage} ms each)`;
    rows.push(row(`register at scale, ${day}: sweeps within 50 ms, slowest`,
      `${Object.values(sweeps).filter((s) => s.withinTarget).length} of ${Object.keys(sweeps).length}, ${slowest[0]} ${slowest[1].ms} ms${perMessage}`,
      day === 'heavyDay' ? 'seconds' : 'all < 50 ms'));
  }
  for (const day of ['nothingDue', 'quietDay'] as const) {
    const training = (result.registerScale?.[day]?.sweeps as Json | undefined)?.remindTrainingObligations;
    if (training) rows.push(row(`register at scale, ${day}: training reminders`, `${training.ms} ms, ${training.summary.messages} messages`, '< 50 ms with nothing due'));
  }
  for (const file of result.memoryBounds?.files ?? []) {
    rows.push(row(`evidence file ${file.fileMb} MB: peak RSS growth, first · next of its size`,
      `${file.growthMb} MB (${file.growthPerFileSize}×) · ${file.next?.growthMb ?? '—'} MB (${file.next?.growthPerFileSize ?? '—'}×)`, '≤ 2× the file'));
  }
  const startup = result.startup as Json | undefined;
  for (const [way, s] of Object.entries(startup ?? {})) {
    if (s && typeof s === 'object' && 'warmReadyMsMedian' in s) {
      rows.push(row(`start-up ${way}: warm ready, idle RSS`, `${s.warmReadyMsMedian} ms, ${s.warmIdleRssMbMedian ?? '—'} MB`, way.startsWith('compiled') ? '< 2 s, < 250 MB' : ''));
    }
  }
  if (result.auditVerify) rows.push(row('audit chain verify (events per second)', result.auditVerify.eventsPerSecond));
  if (result.csvExport) rows.push(row('CSV export (rows per second, peak RSS)', `${result.csvExport.rowsPerSecond}/s, ${result.csvExport.peakRssMb} MB`, '< 200 MB'));
  return rows;
}

export function printSummary(result: Json): string {
  const rows = summaryRows(result);
  const w = [Math.max(...rows.map((r) => r.figure.length)), Math.max(...rows.map((r) => r.value.length))];
  return `${rows.map((r) => `${r.figure.padEnd(w[0])}  ${r.value.padEnd(w[1])}  ${r.target}`.trimEnd()).join('\n')}\n`;
}
