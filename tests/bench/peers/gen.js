// SPDX-License-Identifier: Apache-2.0
// Deterministic generator of openIMIS-like insuree records.
'use strict';
const FIRST = ['John','Jane','Amina','Baraka','Neema','Juma','Rehema','Hassan','Zawadi','Musa'];
const LAST = ['Doe','Mushi','Kimaro','Mwakyusa','Temba','Massawe','Lyimo','Shirima'];
const GEN = ['M','F','O','M','F'];
function record(i) {
  const chf = String(70707070 + i).padStart(9, '0');
  const r = {
    chfId: chf,
    lastName: LAST[i % LAST.length],
    otherNames: FIRST[i % FIRST.length] + (i % 3 === 0 ? ' ' + FIRST[(i + 3) % FIRST.length] : ''),
    dob: (1950 + (i % 60)) + '-' + String(1 + (i % 12)).padStart(2, '0') + '-' + String(1 + (i % 28)).padStart(2, '0'),
    gender: GEN[i % GEN.length],
    family: { headChfId: i % 4 === 0 ? chf : String(70707070 + i - (i % 4)).padStart(9, '0') },
    healthFacility: { code: 'HF' + String(1 + (i % 50)).padStart(3, '0') }
  };
  if (i % 5 !== 4) r.phone = '+255' + String(700000000 + i);
  return r;
}
module.exports = { record };
if (require.main === module) console.log(JSON.stringify(record(0), null, 2));
