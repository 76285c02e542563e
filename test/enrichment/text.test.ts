/** Text normalisation shared by the enrichers: folding, words, domain words, vertical lookup. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainWords, findAllowedVertical, foldText, wordsOf } from '../../src/enrichment/text.ts';

describe('enrichment text helpers', () => {
  it('folds case, umlauts (composed or not) and other accents', () => {
    assert.equal(foldText('Größe ÄÖÜ Café'), 'groesse aeoeue cafe');
    assert.equal(foldText('Allga\u0308u'), 'allgaeu');
  });

  it('splits words on anything but letters and digits', () => {
    assert.equal(wordsOf('  Rhön Reha-Zentrum GmbH & Co. KG '), 'rhoen reha zentrum gmbh co kg');
    assert.equal(wordsOf('2xOmnie CD-01'), '2xomnie cd 01');
    assert.equal(wordsOf('—'), '');
  });

  it('takes the words of a host name without www and top-level domain', () => {
    assert.equal(domainWords('https://www.bremer-abenteuerland.de/kontakt?x=1'), 'bremer abenteuerland');
    assert.equal(domainWords('shop.elbtal-kliniken.example'), 'shop elbtal kliniken');
    assert.equal(domainWords('localhost'), 'localhost');
    assert.equal(domainWords('http://192.168.0.1/'), '');
    assert.equal(domainWords('http://[::1]/'), '');
    assert.equal(domainWords('::: not a url'), '');
    assert.equal(domainWords(''), '');
  });

  it('finds a vertical in the list ignoring case, umlauts and punctuation, in the list spelling', () => {
    const list = ['Öffentlicher Sektor', 'Leisure & Tourism'];
    assert.equal(findAllowedVertical('oeffentlicher sektor', list), 'Öffentlicher Sektor');
    assert.equal(findAllowedVertical('Leisure-Tourism', list), 'Leisure & Tourism');
    assert.equal(findAllowedVertical('Tourism', list), null);
    assert.equal(findAllowedVertical('  ', list), null);
  });
});
