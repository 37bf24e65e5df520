/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen's embedded tables: given names, surnames and place syllables of several regions
 * where openIMIS runs or could run, and small catalogues of diagnoses (ICD-10), medical items
 * and medical services with prices in cents. Weights say how often a claim picks a row. */
#include "gen_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const ea_m[] = {"Juma",    "Hamisi", "Baraka", "Daudi",   "Emmanuel", "Godfrey",
                                   "Hassani", "Joseph", "Kassim", "Mussa",   "Omari",    "Rajabu",
                                   "Salim",   "Yusuph", "Zuberi", "Athumani"};
static const char *const ea_f[] = {"Amina",  "Neema",  "Rehema",    "Zawadi", "Mwanaidi", "Halima",
                                   "Upendo", "Grace",  "Esther",    "Mariam", "Saida",    "Tumaini",
                                   "Faraja", "Subira", "Happiness", "Witness"};
static const char *const ea_s[] = {
    "Mwakyusa", "Kimaro", "Massawe", "Mushi", "Lyimo", "Mrema",   "Shirima", "Mollel", "Swai",
    "Mfinanga", "Kweka",  "Temba",   "Minja", "Ngowi", "Mbwambo", "Makundi", "Urassa", "Kisanga"};
static const char *const ea_y[] = {"ki", "ma", "ngo", "to", "ru", "wa", "mbe",  "si",
                                   "la", "ka", "nya", "za", "mo", "ha", "dodo", "ba"};

static const char *const wa_m[] = {"Lamin",   "Ebrima", "Modou",    "Ousman",  "Alieu",    "Bakary",
                                   "Kebba",   "Musa",   "Sulayman", "Yankuba", "Abdoulie", "Pa",
                                   "Momodou", "Sainey", "Omar",     "Buba"};
static const char *const wa_f[] = {"Fatou", "Isatou", "Mariama",    "Awa",     "Binta", "Haddy",
                                   "Kaddy", "Ndey",   "Aminata",    "Jainaba", "Oumie", "Sainabou",
                                   "Adama", "Fanta",  "Ramatoulie", "Nyima"};
static const char *const wa_s[] = {"Jallow",  "Ceesay", "Bah",    "Jammeh", "Sowe",   "Touray",
                                   "Camara",  "Darboe", "Sanneh", "Njie",   "Jobe",   "Manneh",
                                   "Drammeh", "Sillah", "Colley", "Fofana", "Kinteh", "Sarr"};
static const char *const wa_y[] = {"ban", "ju", "ke", "se", "ku",  "ta", "bri", "ka",
                                   "far", "so", "ma", "ni", "kun", "da", "wa",  "lo"};

static const char *const sa_m[] = {"Ram",   "Bishnu",  "Hari",  "Krishna", "Suresh", "Ramesh",
                                   "Dipak", "Prakash", "Gopal", "Sanjay",  "Bikash", "Rajendra",
                                   "Nabin", "Sagar",   "Anil",  "Mohan"};
static const char *const sa_f[] = {"Sita",   "Gita",  "Laxmi",   "Sarita", "Kamala", "Radha",
                                   "Sunita", "Anita", "Parbati", "Manju",  "Bimala", "Sabina",
                                   "Pooja",  "Rita",  "Srijana", "Durga"};
static const char *const sa_s[] = {
    "Shrestha", "Tamang", "Gurung",    "Magar",  "Rai",    "Thapa", "Adhikari",  "Sharma",  "Karki",
    "Limbu",    "Poudel", "Bhattarai", "Khadka", "Basnet", "Yadav", "Chaudhary", "Ghimire", "Rana"};
static const char *const sa_y[] = {"pur", "gan", "kot", "bha", "ra",  "ma",  "la", "dhu",
                                   "khe", "sin", "jha", "pa",  "nag", "tal", "ko", "hi"};

static const char *const ca_m[] = {
    "Jean",      "Patrice", "Didier", "Serge", "Fiston",   "Blaise",    "Papy",   "Trésor",
    "Christian", "Kevin",   "Junior", "Eric",  "Héritier", "Dieudonné", "Cédric", "Guy"};
static const char *const ca_f[] = {
    "Marie",    "Chantal", "Josée",  "Mado",   "Nathalie",  "Grâce", "Rachel",   "Esperance",
    "Clarisse", "Solange", "Gisèle", "Nadine", "Bénédicte", "Aline", "Sandrine", "Merveille"};
static const char *const ca_s[] = {"Mukendi",   "Kabila",  "Tshibangu", "Ilunga",  "Kalala",
                                   "Mbuyi",     "Kasongo", "Lukusa",    "Mutombo", "Ngoy",
                                   "Kabongo",   "Banza",   "Nkulu",     "Mwamba",  "Kalonji",
                                   "Tshimanga", "Lumbala", "Kazadi"};
static const char *const ca_y[] = {"ki",  "sha", "lu", "bu",   "mba", "ka", "nda", "ko",
                                   "ngo", "lo",  "mi", "tshi", "ba",  "ya", "ma",  "se"};

static const char *const fr_m[] = {
    "Issa",    "Moussa",  "Abdou",     "Boubacar", "Hamidou", "Adamou",  "Souleymane", "Ibrahim",
    "Harouna", "Idrissa", "Mahamadou", "Amadou",   "Oumarou", "Yacouba", "Seydou",     "Hassane"};
static const char *const fr_f[] = {
    "Aïchatou", "Mariama",  "Hadiza",   "Zeinabou", "Ramatou",    "Salamatou", "Fati",    "Rakia",
    "Hawa",     "Balkissa", "Safiatou", "Habsatou", "Kadidiatou", "Zalika",    "Nafissa", "Hassia"};
static const char *const fr_s[] = {"Issoufou", "Moumouni", "Abdoulaye", "Hamani",  "Garba",
                                   "Souley",   "Maïga",    "Boubé",     "Djibo",   "Oumarou",
                                   "Adamou",   "Salifou",  "Yacouba",   "Mahaman", "Kountché",
                                   "Tandja",   "Illo",     "Saidou"};
static const char *const fr_y[] = {"ti", "la", "zin", "der", "do", "sso", "ma",  "ra",
                                   "di", "ga", "tah", "ou",  "ni", "bé",  "kon", "ya"};

static const char *const ar_m[] = {"Mohamed", "Ahmed",   "Ali",    "Abdallah", "Youssef", "Omar",
                                   "Ibrahim", "Mahmoud", "Hassan", "Khalid",   "Salem",   "Adam",
                                   "Idriss",  "Mustafa", "Bashir", "Hamza"};
static const char *const ar_f[] = {"Fatima", "Khadija", "Aisha",  "Maryam", "Zainab", "Hawa",
                                   "Amna",   "Salma",   "Huda",   "Asma",   "Rania",  "Nour",
                                   "Samira", "Layla",   "Halima", "Sakina"};
static const char *const ar_s[] = {"Abakar",  "Mahamat",  "Youssouf", "Brahim",     "Haroun",
                                   "Saleh",   "Ousmane",  "Ahmat",    "Moussa",     "Adoum",
                                   "Hissein", "Djibrine", "Zakaria",  "Abdelkerim", "Hamid",
                                   "Oumar",   "Bechir",   "Annadif"};
static const char *const ar_y[] = {"ab", "ar", "dja", "mé", "na", "bé", "ati", "gué",
                                   "ra", "ba", "ou",  "el", "ma", "da", "ha",  "sa"};

#define CULTURE(n, p, m, f, s, y)                                                                  \
    {                                                                                              \
        n, m, f, s, y, N(m), N(f), N(s), N(y), p                                                   \
    }
const struct gen_culture gen_cultures[GEN_NCULTURES] = {
    CULTURE("east-africa", "07", ea_m, ea_f, ea_s, ea_y),
    CULTURE("west-africa", "3", wa_m, wa_f, wa_s, wa_y),
    CULTURE("south-asia", "98", sa_m, sa_f, sa_s, sa_y),
    CULTURE("central-africa", "08", ca_m, ca_f, ca_s, ca_y),
    CULTURE("sahel-francophone", "9", fr_m, fr_f, fr_s, fr_y),
    CULTURE("sahel-arabic", "6", ar_m, ar_f, ar_s, ar_y),
};

/* code, name, type, level, category, care, price (cents), weight */
const struct gen_catalogue_row gen_diagnoses[] = {
    {"B54", "Unspecified malaria", 0, 0, 0, 0, 0, 180},
    {"A09", "Infectious gastroenteritis and colitis", 0, 0, 0, 0, 0, 90},
    {"J06", "Acute upper respiratory infections", 0, 0, 0, 0, 0, 120},
    {"J18", "Pneumonia, organism unspecified", 0, 0, 0, 0, 0, 50},
    {"J45", "Asthma", 0, 0, 0, 0, 0, 15},
    {"N39", "Other disorders of urinary system", 0, 0, 0, 0, 0, 40},
    {"I10", "Essential (primary) hypertension", 0, 0, 0, 0, 0, 45},
    {"E11", "Type 2 diabetes mellitus", 0, 0, 0, 0, 0, 25},
    {"A15", "Respiratory tuberculosis", 0, 0, 0, 0, 0, 8},
    {"B20", "HIV disease", 0, 0, 0, 0, 0, 10},
    {"A01", "Typhoid and paratyphoid fevers", 0, 0, 0, 0, 0, 20},
    {"B82", "Unspecified intestinal parasitism", 0, 0, 0, 0, 0, 30},
    {"D50", "Iron deficiency anaemia", 0, 0, 0, 0, 0, 20},
    {"E44", "Protein-energy malnutrition", 0, 0, 0, 0, 0, 8},
    {"H10", "Conjunctivitis", 0, 0, 0, 0, 0, 20},
    {"H66", "Suppurative and unspecified otitis media", 0, 0, 0, 0, 0, 15},
    {"K29", "Gastritis and duodenitis", 0, 0, 0, 0, 0, 30},
    {"K35", "Acute appendicitis", 0, 0, 0, 0, 0, 4},
    {"L08", "Local infections of skin", 0, 0, 0, 0, 0, 25},
    {"L20", "Atopic dermatitis", 0, 0, 0, 0, 0, 8},
    {"M54", "Dorsalgia", 0, 0, 0, 0, 0, 20},
    {"M13", "Other arthritis", 0, 0, 0, 0, 0, 8},
    {"O80", "Single spontaneous delivery", 0, 0, 0, 0, 0, 25},
    {"O82", "Single delivery by caesarean section", 0, 0, 0, 0, 0, 5},
    {"Z34", "Supervision of normal pregnancy", 0, 0, 0, 0, 0, 30},
    {"Z00", "General examination", 0, 0, 0, 0, 0, 20},
    {"S01", "Open wound of head", 0, 0, 0, 0, 0, 6},
    {"S52", "Fracture of forearm", 0, 0, 0, 0, 0, 4},
    {"T14", "Injury of unspecified body region", 0, 0, 0, 0, 0, 10},
    {"R50", "Fever of other and unknown origin", 0, 0, 0, 0, 0, 40},
    {"R51", "Headache", 0, 0, 0, 0, 0, 20},
    {"K02", "Dental caries", 0, 0, 0, 0, 0, 15},
    {"G40", "Epilepsy", 0, 0, 0, 0, 0, 4},
    {"F32", "Depressive episode", 0, 0, 0, 0, 0, 3},
    {"I50", "Heart failure", 0, 0, 0, 0, 0, 3},
    {"N18", "Chronic kidney disease", 0, 0, 0, 0, 0, 2},
    {"A90", "Dengue fever", 0, 0, 0, 0, 0, 3},
    {"B05", "Measles", 0, 0, 0, 0, 0, 2},
    {"A00", "Cholera", 0, 0, 0, 0, 0, 1},
    {"H52", "Disorders of refraction", 0, 0, 0, 0, 0, 5},
};
const size_t gen_ndiagnoses = N(gen_diagnoses);

const struct gen_catalogue_row gen_items[] = {
    {"0001", "Paracetamol 500mg tablet", 'D', 0, 0, 'B', 5, 200},
    {"0002", "Amoxicillin 250mg capsule", 'D', 0, 0, 'B', 10, 150},
    {"0003", "Artemether/Lumefantrine 20/120mg tablet", 'D', 0, 0, 'B', 40, 140},
    {"0004", "Oral rehydration salts sachet", 'D', 0, 0, 'B', 20, 70},
    {"0005", "Zinc sulphate 20mg tablet", 'D', 0, 0, 'B', 5, 50},
    {"0006", "Metronidazole 200mg tablet", 'D', 0, 0, 'B', 4, 60},
    {"0007", "Cotrimoxazole 480mg tablet", 'D', 0, 0, 'B', 4, 60},
    {"0008", "Ibuprofen 200mg tablet", 'D', 0, 0, 'B', 4, 70},
    {"0009", "Ferrous sulphate + folic acid tablet", 'D', 0, 0, 'B', 3, 40},
    {"0010", "Metformin 500mg tablet", 'D', 0, 0, 'B', 6, 25},
    {"0011", "Amlodipine 5mg tablet", 'D', 0, 0, 'B', 8, 25},
    {"0012", "Salbutamol inhaler 100mcg", 'D', 0, 0, 'B', 450, 8},
    {"0013", "Ceftriaxone 1g injection", 'D', 0, 0, 'B', 180, 20},
    {"0014", "Gentamicin 80mg injection", 'D', 0, 0, 'B', 60, 10},
    {"0015", "Quinine 300mg injection", 'D', 0, 0, 'B', 90, 8},
    {"0016", "Oxytocin 10IU injection", 'D', 0, 0, 'B', 70, 8},
    {"0017", "Albendazole 400mg tablet", 'D', 0, 0, 'B', 15, 30},
    {"0018", "Tetracycline eye ointment 1%", 'D', 0, 0, 'B', 60, 15},
    {"0019", "Diclofenac 50mg tablet", 'D', 0, 0, 'B', 5, 30},
    {"0020", "Omeprazole 20mg capsule", 'D', 0, 0, 'B', 12, 20},
    {"0021", "Dextrose 5% 500ml infusion", 'D', 0, 0, 'B', 250, 10},
    {"0022", "Sodium chloride 0.9% 500ml infusion", 'D', 0, 0, 'B', 220, 10},
    {"0023", "Insulin soluble 10ml vial", 'D', 0, 0, 'B', 1200, 3},
    {"0024", "Malaria rapid diagnostic test", 'M', 0, 0, 'B', 80, 60},
    {"0025", "Disposable syringe 5ml with needle", 'M', 0, 0, 'B', 10, 40},
    {"0026", "Examination gloves, pair", 'M', 0, 0, 'B', 8, 30},
    {"0027", "Gauze bandage 10cm", 'M', 0, 0, 'B', 30, 15},
    {"0028", "Cannula IV 20G", 'M', 0, 0, 'B', 60, 10},
    {"0029", "Urinary catheter", 'M', 0, 0, 'B', 120, 3},
    {"0030", "Plaster of Paris bandage", 'M', 0, 0, 'B', 250, 3},
};
const size_t gen_nitems = N(gen_items);

const struct gen_catalogue_row gen_services[] = {
    {"A1", "Outpatient consultation", 'C', 'V', 0, 'O', 300, 300},
    {"A2", "Follow-up consultation", 'C', 'V', 0, 'O', 150, 80},
    {"A3", "Specialist consultation", 'C', 'V', 0, 'O', 1000, 20},
    {"A4", "Emergency consultation", 'C', 'V', 0, 'B', 600, 25},
    {"B1", "Malaria microscopy", 'C', 'S', 0, 'B', 150, 80},
    {"B2", "Full blood count", 'C', 'S', 0, 'B', 400, 40},
    {"B3", "Urinalysis", 'C', 'S', 0, 'B', 150, 30},
    {"B4", "Blood glucose test", 'C', 'S', 0, 'B', 100, 25},
    {"B5", "Stool examination", 'C', 'S', 0, 'B', 120, 25},
    {"B6", "HIV rapid test", 'P', 'S', 0, 'B', 100, 15},
    {"B7", "Chest X-ray", 'C', 'S', 0, 'B', 1500, 10},
    {"B8", "Abdominal ultrasound", 'C', 'S', 0, 'B', 2000, 8},
    {"C1", "Wound dressing", 'C', 'S', 0, 'O', 200, 25},
    {"C2", "Suturing of wound", 'C', 'S', 'S', 'O', 800, 10},
    {"C3", "Injection administration", 'C', 'S', 0, 'B', 50, 40},
    {"C4", "Incision and drainage", 'C', 'S', 'S', 'O', 1200, 5},
    {"C5", "Fracture reduction and cast", 'C', 'S', 'S', 'B', 5000, 3},
    {"D1", "Antenatal visit", 'P', 'V', 'A', 'O', 200, 30},
    {"D2", "Normal delivery", 'C', 'D', 'D', 'I', 8000, 12},
    {"D3", "Caesarean section", 'C', 'D', 'S', 'I', 60000, 2},
    {"D4", "Postnatal visit", 'P', 'V', 0, 'O', 200, 10},
    {"D5", "Family planning consultation", 'P', 'V', 'O', 'O', 150, 15},
    {"E1", "Child immunisation session", 'P', 'V', 'O', 'O', 100, 20},
    {"E2", "Growth monitoring", 'P', 'S', 'O', 'O', 50, 15},
    {"F1", "Inpatient day, general ward", 'C', 'H', 'H', 'I', 2500, 15},
    {"F2", "Inpatient day, paediatric ward", 'C', 'H', 'H', 'I', 2000, 8},
    {"F3", "Appendicectomy", 'C', 'D', 'S', 'I', 80000, 1},
    {"G1", "Tooth extraction", 'C', 'S', 'S', 'O', 500, 10},
    {"G2", "Eye examination", 'C', 'V', 0, 'O', 300, 8},
    {"G3", "Physiotherapy session", 'C', 'S', 'O', 'O', 600, 4},
};
const size_t gen_nservices = N(gen_services);
