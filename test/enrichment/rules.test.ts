/**
 * The `rules` enricher: classification of the simulator's demo companies, matching rules (word boundaries,
 * wildcards, umlauts, overlapping keywords), the CRM's spelling of verticals, determinism, custom rules
 * files, templates and language fallback, and the config schema.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seedLists } from '../../src/simulators/superoffice/seed.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { seededRandom } from '../../src/core/random.ts';
import { createEnricher, enricherConfigSchema } from '../../src/enrichment/index.ts';
import type { EnricherConfig } from '../../src/enrichment/index.ts';
import type { CompanyFacts, Enricher, EnrichmentRequest } from '../../src/ports/enricher.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { TempDir } from '../support/temp-dir.ts';
import { recordingLogger } from './transport-scenarios.ts';

const logger = recordingLogger();

/** The simulator's "Vertical" list (its live items), as the enrich flow would read it. */
const SEEDED_VERTICALS = (seedLists().find((list) => list.name === 'Vertical')?.items ?? [])
  .filter((item) => !item.deleted)
  .map((item) => item.name);

function rulesEnricher(settings: Record<string, unknown> = {}, cwd?: string): Enricher {
  const config: EnricherConfig = enricherConfigSchema.parse({ provider: 'rules', ...settings });
  return createEnricher(config, { logger, ...(cwd !== undefined && { cwd }) });
}

function companyRequest(
  company: Partial<CompanyFacts> & { name: string },
  extra: Partial<EnrichmentRequest> = {},
) {
  return { company: { urls: [], ...company }, verticals: SEEDED_VERTICALS, language: 'de', ...extra };
}

describe('rules enricher: classification', () => {
  const enricher = rulesEnricher();

  it('classifies the demo tenant companies by name', async () => {
    const expected: [string, string | null][] = [
      ['Bremer Abenteuerland GmbH', 'Leisure & Tourism'],
      ['Elbtal Kliniken AG', 'Healthcare'],
      ['Hanse Logistik GmbH & Co. KG', 'Logistics'],
      ['Schwarzwald Hotels KG', 'Hospitality'],
      ['Ruhr Stahlbau GmbH', 'Manufacturing'],
      ['Nordsee Fischhandel e.K.', 'Retail'],
      ['Spree Bildungswerk GmbH', 'Education'],
      ['Main Immobilien AG', 'Real Estate'],
      ['Weser Spedition GmbH', 'Logistics'],
      ['Harz Ferienparks GmbH', 'Leisure & Tourism'],
      ['Saale Stadtwerke GmbH', 'Public Sector'],
      ['Oder Bauhof', 'Public Sector'],
      ['Ostsee Reisen KG', 'Leisure & Tourism'],
      ['Taunus Pflegedienste GmbH', 'Healthcare'],
      ['Rhön Reha-Zentrum GmbH', 'Healthcare'],
      ['Emsland Agrar GmbH', null],
    ];
    for (const [name, vertical] of expected) {
      const result = await enricher.enrich(companyRequest({ name }));
      assert.equal(result.vertical, vertical, name);
    }
  });

  it('reads the words of web addresses, org data and sale headings', async () => {
    const byUrl = await enricher.enrich(
      companyRequest({ name: 'Müller & Söhne', urls: ['www.mueller-spedition.de', 'not a url ::'] }),
    );
    assert.equal(byUrl.vertical, 'Logistics');
    const byBusiness = await enricher.enrich(companyRequest({ name: 'Firma X', business: 'Gesundheit' }));
    assert.equal(byBusiness.vertical, 'Healthcare');
    const byDepartment = await enricher.enrich(
      companyRequest({ name: 'Firma Y', department: 'Hotel am See' }),
    );
    assert.equal(byDepartment.vertical, 'Hospitality');
    const bySales = await enricher.enrich(
      companyRequest({ name: 'Firma Z', saleHeadings: ['Ausstattung Klinikum Nord', 'Wartung OMNIE'] }),
    );
    assert.equal(bySales.vertical, 'Healthcare');
  });

  it('matches whole words, case- and umlaut-insensitively', async () => {
    for (const name of ['ALLGAEU KLINIKEN', 'allgäu kliniken', 'Allga\u0308u Kliniken']) {
      assert.equal((await enricher.enrich(companyRequest({ name }))).vertical, 'Healthcare', name);
    }
    // "reha*" must not fire inside "Prehaus", nor the whole word "pension" inside "Pensionsfonds".
    assert.equal((await enricher.enrich(companyRequest({ name: 'Prehaus Pensionsfonds' }))).vertical, null);
  });

  it('proposes only offered verticals, in the spelling of the CRM list', async () => {
    const german = ['Gesundheitswesen', 'Logistik', 'Öffentlicher Sektor'];
    const clinic = await enricher.enrich(companyRequest({ name: 'Elbtal Kliniken' }, { verticals: german }));
    assert.equal(clinic.vertical, 'Gesundheitswesen');
    const lower = await enricher.enrich(
      companyRequest({ name: 'Elbtal Kliniken' }, { verticals: ['healthcare'] }),
    );
    assert.equal(lower.vertical, 'healthcare');
    const notOffered = await enricher.enrich(
      companyRequest({ name: 'Elbtal Kliniken' }, { verticals: ['Retail'] }),
    );
    assert.equal(notOffered.vertical, null);
    const none = await enricher.enrich(companyRequest({ name: 'Elbtal Kliniken' }, { verticals: [] }));
    assert.equal(none.vertical, null);
  });

  it('gives the same answer for the same facts whatever the order of the offered verticals', async () => {
    const seed = 20260322;
    console.log(`# shuffle seed ${seed}`);
    const random = seededRandom(seed);
    const request = companyRequest({
      name: 'Isar Medizintechnik GmbH',
      urls: ['https://www.isar-medizintechnik.example'],
      business: 'Industrie',
      country: 'Deutschland',
    });
    const first = await enricher.enrich(request);
    assert.equal(first.vertical, 'Healthcare');
    for (let round = 0; round < 20; round++) {
      const verticals = [...SEEDED_VERTICALS].sort(() => random() - 0.5);
      assert.deepEqual(await enricher.enrich({ ...request, verticals }), first);
    }
  });
});

describe('rules enricher: texts', () => {
  const enricher = rulesEnricher();
  const person = { firstName: 'Anna', lastName: 'Müller', jobTitle: 'Einkaufsleiterin' };

  it('writes German summary and openers with name, vertical, country and person', async () => {
    const result = await enricher.enrich(
      companyRequest({ name: 'Hanse Logistik GmbH', country: 'Deutschland' }, { person }),
    );
    assert.deepEqual(result, {
      vertical: 'Logistics',
      summary: 'Hanse Logistik GmbH ist ein Unternehmen der Branche Logistics mit Sitz in Deutschland.',
      companyOpener:
        'Wir arbeiten mit vielen Unternehmen der Branche Logistics zusammen und möchten gern erfahren, wo Hanse Logistik GmbH gerade Unterstützung gebrauchen kann.',
      personOpener:
        'Guten Tag Anna Müller, Sie wissen als Einkaufsleiterin am besten, was Hanse Logistik GmbH in der Branche Logistics bewegt – darf ich Ihnen kurz zeigen, wie vergleichbare Unternehmen damit umgehen?',
    });
  });

  it('leaves out what is unknown and proposes a person opener only with a person', async () => {
    const result = await enricher.enrich(companyRequest({ name: 'Firma X' }, { language: 'en' }));
    assert.equal(result.vertical, null);
    assert.equal(result.summary, 'Firma X is a company.');
    assert.equal(result.personOpener, null);
    const nameless = await enricher.enrich(
      companyRequest({ name: 'Firma X' }, { language: 'en', person: { position: 'Einkauf' } }),
    );
    assert.match(nameless.personOpener ?? '', /^Hello, you know best as Einkauf what moves Firma X –/);
  });

  it('names up to three distinct recent sale headings in the summary', async () => {
    const result = await enricher.enrich(
      companyRequest({ name: 'Firma X', saleHeadings: ['A', 'B', 'A', 'C', 'D'] }, { language: 'en' }),
    );
    assert.equal(result.summary, 'Firma X is a company. Recent topics: A; B; C.');
  });

  it('falls back from a regional tag to its language, and from unknown languages to English', async () => {
    const austrian = await enricher.enrich(companyRequest({ name: 'Firma X' }, { language: 'de-AT' }));
    assert.equal(austrian.summary, 'Firma X ist ein Unternehmen.');
    const french = await enricher.enrich(companyRequest({ name: 'Firma X' }, { language: 'fr' }));
    assert.equal(french.summary, 'Firma X is a company.');
  });

  it('uses template overrides per language, keeping the other texts', async () => {
    const custom = rulesEnricher({
      templates: { FR: { summary: '{company} est une entreprise[ du secteur {vertical}].' } },
    });
    const result = await custom.enrich(companyRequest({ name: 'Elbtal Kliniken' }, { language: 'fr' }));
    assert.equal(result.summary, 'Elbtal Kliniken est une entreprise du secteur Healthcare.');
    assert.match(result.companyOpener ?? '', /^We work with many companies in Healthcare/);
  });

  it('rejects templates with unknown placeholders or unbalanced brackets', () => {
    const parsed = enricherConfigSchema.safeParse({
      provider: 'rules',
      templates: { de: { summary: '{firma} ist [toll', companyOpener: 'x]' } },
    });
    assert.equal(parsed.success, false);
    const messages = parsed.error?.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('\n');
    assert.match(messages ?? '', /templates\.de\.summary: unknown placeholder \{firma\}/);
    assert.match(messages ?? '', /templates\.de\.summary: square brackets/);
    assert.match(messages ?? '', /templates\.de\.companyOpener: square brackets/);
  });

  it('rejects with the reason when the run is already aborted', async () => {
    const reason = new Error('shutdown');
    await assert.rejects(
      enricher.enrich(companyRequest({ name: 'Firma X' }), { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });

  it('answers check() with the rules in use', async () => {
    const { ok, message } = await enricher.check();
    assert.equal(ok, true);
    assert.match(message, /^built-in rules with \d+ verticals \(Healthcare, /);
  });
});

describe('rules enricher: custom rules file', () => {
  let dir: TempDir;
  before(() => {
    dir = makeTempDir('crmsync-rules-');
  });
  after(() => dir.remove());

  const write = (name: string, content: unknown) => {
    const path = join(dir.path, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('loads a relative rulesFile against cwd; ties go to the vertical listed first', async () => {
    write('mine.json', {
      verticals: [
        { name: 'Maritime', aliases: ['Schifffahrt'], keywords: { '*werft': 3, 'hafen*': 2, reederei: 3 } },
        { name: 'Leisure', keywords: { 'yacht*': 3, segel: 1 } },
      ],
    });
    const enricher = rulesEnricher({ rulesFile: 'mine.json' }, dir.path);
    const offered = ['Leisure', 'Schifffahrt'];
    const yard = await enricher.enrich(
      companyRequest({ name: 'Bodensee Yachtwerft' }, { verticals: offered }),
    );
    // "yacht*" (Leisure) and "*werft" (Maritime) both match the one word with weight 3: Maritime is listed first.
    assert.equal(yard.vertical, 'Schifffahrt');
    const sails = await enricher.enrich(
      companyRequest({ name: 'Segel Yacht Charter' }, { verticals: offered }),
    );
    assert.equal(sails.vertical, 'Leisure');
    assert.match((await enricher.check()).message, /mine\.json rules with 2 verticals/);
  });

  it('counts overlapping keywords of one vertical once and honours minScore and fieldWeights', async () => {
    write('weights.json', {
      minScore: 4,
      fieldWeights: { saleHeadings: 0 },
      verticals: [{ name: 'Travel', keywords: { 'reise*': 3, '*reisen': 3, 'bus*': 1 } }],
    });
    const enricher = rulesEnricher({ rulesFile: join(dir.path, 'weights.json') });
    const travel = (company: Partial<CompanyFacts> & { name: string }) =>
      enricher.enrich(companyRequest(company, { verticals: ['Travel'] }));
    assert.equal((await travel({ name: 'Ostsee Reisen' })).vertical, null, '3 < minScore 4');
    assert.equal((await travel({ name: 'Ostsee Busreisen' })).vertical, null, 'one word, counted once');
    assert.equal((await travel({ name: 'Ostsee Bus Reisen' })).vertical, 'Travel');
    assert.equal((await travel({ name: 'X', saleHeadings: ['Bus Reisen'] })).vertical, null, 'factor 0');
  });

  it('throws a ConfigError naming the file and every problem of an invalid file', () => {
    const path = write('broken.json', {
      minScore: -1,
      verticals: [
        { name: 'A', keywords: {} },
        { name: 'B', aliases: ['a'], keywords: { 'mid*dle': 2, Klinik: 1, klinik: 2 }, colour: 'red' },
      ],
    });
    assert.throws(
      () => rulesEnricher({ rulesFile: path }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.ok(error.message.includes(path), error.message);
        const text = error.problems.map((problem) => `${problem.path} ${problem.message}`).join('\n');
        assert.match(text, /#minScore /);
        assert.match(text, /#verticals\.0\.keywords list at least one keyword/);
        assert.match(text, /#verticals\.1 .*colour/);
        assert.match(text, /only at the start or the end/);
        return true;
      },
    );
  });

  it('reports duplicate keywords and names shared by two verticals', () => {
    const path = write('duplicates.json', {
      verticals: [
        { name: 'Health', keywords: { Klinik: 1 } },
        { name: 'Care', aliases: ['HEALTH'], keywords: { klinik: 1, KLINIK: 2 } },
      ],
    });
    assert.throws(
      () => rulesEnricher({ rulesFile: path }),
      (error) =>
        error instanceof ConfigError &&
        /verticals\.1\.aliases: "HEALTH" already names verticals\.0/.test(error.message) &&
        /verticals\.1\.keywords\.KLINIK: duplicate keyword/.test(error.message),
    );
  });

  it('throws a ConfigError for a missing file and for a file that is not JSON', () => {
    assert.throws(
      () => rulesEnricher({ rulesFile: 'nope.json' }, dir.path),
      (error) => error instanceof ConfigError && error.message.includes(join(dir.path, 'nope.json')),
    );
    const path = write('not-json.json', '{ "verticals": [ ');
    assert.throws(
      () => rulesEnricher({ rulesFile: path }),
      (error) => error instanceof ConfigError && error.message.includes(`${path} is not valid JSON`),
    );
  });
});

describe('enricherConfigSchema', () => {
  it('defaults to the rules provider through prefault', () => {
    assert.deepEqual(enricherConfigSchema.prefault({ provider: 'rules' }).parse(undefined), {
      provider: 'rules',
      templates: {},
    });
  });

  it('applies the documented defaults of http and openai', () => {
    const http = enricherConfigSchema.parse({ provider: 'http', url: 'https://ce.example/enrich' });
    assert.deepEqual(http, {
      provider: 'http',
      url: 'https://ce.example/enrich',
      headers: {},
      timeoutMs: 30_000,
      maxRetries: 2,
      maxRetryAfterMs: 30_000,
    });
    const openai = enricherConfigSchema.parse({ provider: 'openai', model: 'gpt-4o-mini' });
    assert.equal(openai.provider === 'openai' && openai.baseUrl, 'https://api.openai.com/v1');
    assert.equal(openai.provider === 'openai' && openai.temperature, 0);
  });

  it('rejects unknown keys, a missing model and an unknown provider', () => {
    assert.equal(enricherConfigSchema.safeParse({ provider: 'rules', rulesfile: 'x.json' }).success, false);
    assert.equal(enricherConfigSchema.safeParse({ provider: 'openai' }).success, false);
    assert.equal(enricherConfigSchema.safeParse({ provider: 'http', url: 'ftp://x.example' }).success, false);
    assert.equal(enricherConfigSchema.safeParse({ provider: 'magic' }).success, false);
  });
});
