"""Names for the pilot's directory: the real agencies around Pak Chong and, for province-sized
runs, generated ones that look like Nakhon Ratchasima's (districts, municipalities, tambon
administrative organisations, schools, hospitals).

Letter codes follow the real pattern (``นม`` + digits) but are illustrative, not official.
"""

from __future__ import annotations

from dataclasses import dataclass

PAKCHONG = "PAKCHONG"
DISTRICT = "PAKCHONG-DIST"
PROVINCE = "NMA-PROV"
LOCAL_ADMIN = "NMA-DLA"
SCHOOL = "PAKCHONG-SCH"
HOSPITAL = "PAKCHONG-HOSP"


@dataclass(frozen=True)
class PilotAgency:
    code: str
    name: str
    letter_code: str
    parent: str | None
    address: str
    units: tuple[tuple[str, str], ...] = ()


PILOT_AGENCIES: tuple[PilotAgency, ...] = (
    PilotAgency(
        PROVINCE,
        "จังหวัดนครราชสีมา",
        "นม 0017",
        None,
        "ศาลากลางจังหวัดนครราชสีมา ถนนมหาดไทย ตำบลในเมือง อำเภอเมืองนครราชสีมา จังหวัดนครราชสีมา 30000",
        (("GOV", "สำนักงานจังหวัดนครราชสีมา"), ("ADMIN", "กลุ่มงานบริหารทั่วไป")),
    ),
    PilotAgency(
        LOCAL_ADMIN,
        "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดนครราชสีมา",
        "นม 0023",
        PROVINCE,
        "ศาลากลางจังหวัดนครราชสีมา ถนนมหาดไทย ตำบลในเมือง อำเภอเมืองนครราชสีมา จังหวัดนครราชสีมา 30000",
    ),
    PilotAgency(
        DISTRICT,
        "อำเภอปากช่อง",
        "นม 0318",
        PROVINCE,
        "ที่ว่าการอำเภอปากช่อง ถนนมิตรภาพ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
        (("ADMIN", "ฝ่ายบริหารงานปกครอง"),),
    ),
    PilotAgency(
        PAKCHONG,
        "เทศบาลเมืองปากช่อง",
        "นม 52101",
        DISTRICT,
        "สำนักงานเทศบาลเมืองปากช่อง ถนนเทศบาล ๑ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
        (
            ("OFFICE", "สำนักปลัดเทศบาล"),
            ("FINANCE", "กองคลัง"),
            ("ENGINEERING", "กองช่าง"),
            ("EDUCATION", "กองการศึกษา"),
            ("HEALTH", "กองสาธารณสุขและสิ่งแวดล้อม"),
            ("STRATEGY", "กองยุทธศาสตร์และงบประมาณ"),
        ),
    ),
    PilotAgency(
        SCHOOL,
        "โรงเรียนเทศบาล ๑ (หนองกะจะ)",
        "นม 52101.1",
        PAKCHONG,
        "ถนนเทศบาล ๒ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
    ),
    PilotAgency(
        HOSPITAL,
        "โรงพยาบาลปากช่องนานา",
        "นม 0032.301",
        DISTRICT,
        "ถนนมิตรภาพ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
    ),
)


@dataclass(frozen=True)
class PilotUser:
    username: str
    agency: str
    name: str
    position: str
    role: str
    unit: str | None = None


PILOT_USERS: tuple[PilotUser, ...] = (
    PilotUser("pc.mayor", PAKCHONG, "นายสมศักดิ์ ประเสริฐวงศ์", "นายกเทศมนตรีเมืองปากช่อง", "executive"),
    PilotUser("pc.deputy", PAKCHONG, "นางสาวพรทิพย์ ศรีสุข", "ปลัดเทศบาลเมืองปากช่อง", "executive", "OFFICE"),
    PilotUser("pc.head.office", PAKCHONG, "นายวิชัย มั่นคง", "หัวหน้าสำนักปลัดเทศบาล", "head", "OFFICE"),
    PilotUser("pc.head.eng", PAKCHONG, "นายธนพล แก้วมณี", "ผู้อำนวยการกองช่าง", "head", "ENGINEERING"),
    PilotUser("pc.head.fin", PAKCHONG, "นางกมลวรรณ ทองดี", "ผู้อำนวยการกองคลัง", "head", "FINANCE"),
    PilotUser("pc.officer", PAKCHONG, "นางสาวอรุณี ใจงาม", "นักจัดการงานทั่วไปชำนาญการ", "officer", "OFFICE"),
    PilotUser("pc.engineer", PAKCHONG, "นายกิตติพงษ์ สายทอง", "วิศวกรโยธาปฏิบัติการ", "officer", "ENGINEERING"),
    PilotUser("pc.clerk", PAKCHONG, "นางสุภาพร บุญมา", "เจ้าพนักงานธุรการชำนาญงาน", "clerk", "OFFICE"),
    PilotUser("pc.auditor", PAKCHONG, "นายประยุทธ ตรงไปตรงมา", "นักวิชาการตรวจสอบภายใน", "auditor"),
    PilotUser("pc.admin", PAKCHONG, "นายณัฐวุฒิ คอมพิวเตอร์", "นักวิชาการคอมพิวเตอร์", "admin", "STRATEGY"),
    PilotUser("dist.chief", DISTRICT, "นายอนุชา รักษ์ถิ่น", "นายอำเภอปากช่อง", "executive"),
    PilotUser("dist.head", DISTRICT, "นายสุรชัย ปกครอง", "ปลัดอำเภอหัวหน้าฝ่ายบริหารงานปกครอง", "head", "ADMIN"),
    PilotUser("dist.clerk", DISTRICT, "นางสาววันเพ็ญ จันทร์หอม", "เจ้าพนักงานธุรการ", "clerk", "ADMIN"),
    PilotUser("prov.governor", PROVINCE, "นายชัยวัฒน์ โคราชบุรี", "ผู้ว่าราชการจังหวัดนครราชสีมา", "executive"),
    PilotUser("prov.head", PROVINCE, "นางรัชนี วงศ์ใหญ่", "หัวหน้าสำนักงานจังหวัดนครราชสีมา", "head", "GOV"),
    PilotUser("prov.clerk", PROVINCE, "นางสาวจิราพร สุขใจ", "เจ้าพนักงานธุรการชำนาญงาน", "clerk", "ADMIN"),
    PilotUser("prov.auditor", PROVINCE, "นางสาวปิยะนุช ถูกต้อง", "นักวิชาการตรวจสอบภายใน", "auditor"),
    PilotUser("dla.chief", LOCAL_ADMIN, "นายวีระ ท้องถิ่นดี", "ท้องถิ่นจังหวัดนครราชสีมา", "executive"),
    PilotUser("dla.clerk", LOCAL_ADMIN, "นางมาลี ส่งเสริม", "เจ้าพนักงานธุรการ", "clerk"),
    PilotUser("sch.director", SCHOOL, "นางนงลักษณ์ ครูดี", "ผู้อำนวยการโรงเรียนเทศบาล ๑", "executive"),
    PilotUser("sch.clerk", SCHOOL, "นางสาวศิริพร เรียนดี", "เจ้าหน้าที่ธุรการโรงเรียน", "clerk"),
    PilotUser("hosp.director", HOSPITAL, "นายแพทย์ปกรณ์ รักษาดี", "ผู้อำนวยการโรงพยาบาลปากช่องนานา", "executive"),
    PilotUser("hosp.clerk", HOSPITAL, "นางสาวสมใจ ดูแล", "เจ้าพนักงานธุรการ", "clerk"),
)

# Nakhon Ratchasima's 32 districts (อำเภอ).
DISTRICTS: tuple[str, ...] = (
    "เมืองนครราชสีมา",
    "ครบุรี",
    "เสิงสาง",
    "คง",
    "บ้านเหลื่อม",
    "จักราช",
    "โชคชัย",
    "ด่านขุนทด",
    "โนนไทย",
    "โนนสูง",
    "ขามสะแกแสง",
    "บัวใหญ่",
    "ประทาย",
    "ปักธงชัย",
    "พิมาย",
    "ห้วยแถลง",
    "ชุมพวง",
    "สูงเนิน",
    "ขามทะเลสอ",
    "สีคิ้ว",
    "ปากช่อง",
    "หนองบุญมาก",
    "แก้งสนามนาง",
    "โนนแดง",
    "วังน้ำเขียว",
    "เทพารักษ์",
    "เมืองยาง",
    "พระทองคำ",
    "ลำทะเมนชัย",
    "บัวลาย",
    "สีดา",
    "เฉลิมพระเกียรติ",
)

FIRST_NAMES: tuple[str, ...] = (
    "สมชาย",
    "สมหญิง",
    "ประเสริฐ",
    "วิไลวรรณ",
    "สุนทร",
    "มาลัย",
    "ชาญชัย",
    "อัมพร",
    "ธีรพงษ์",
    "กาญจนา",
    "บุญเลิศ",
    "จันทร์เพ็ญ",
    "พงศกร",
    "ศิริรัตน์",
    "ณรงค์",
    "อรอุมา",
    "สุรเชษฐ์",
    "นิตยา",
    "อภิชาติ",
    "รุ่งนภา",
    "วรวุฒิ",
    "ปราณี",
    "เกียรติศักดิ์",
    "สุดารัตน์",
    "ทวีศักดิ์",
    "วันดี",
    "สมบัติ",
    "พิมพ์ชนก",
    "ชัยยุทธ",
    "ลำดวน",
    "ไพโรจน์",
    "ดวงใจ",
    "เอกชัย",
    "ละเอียด",
    "สุริยา",
    "บุษบา",
    "อนันต์",
    "สายสุนีย์",
    "ปิยะพงษ์",
    "ทองใบ",
)
LAST_NAMES: tuple[str, ...] = (
    "ใจดี",
    "มีสุข",
    "ศรีสวัสดิ์",
    "ทองคำ",
    "แสงอรุณ",
    "บุญมี",
    "พึ่งบุญ",
    "รุ่งเรือง",
    "สายบุญ",
    "เพชรดี",
    "วงศ์สวัสดิ์",
    "ชัยมงคล",
    "นาคสุข",
    "จันทร์แก้ว",
    "ทองมา",
    "สมบูรณ์",
    "ปัญญาดี",
    "เจริญผล",
    "อินทร์แก้ว",
    "พรหมมา",
    "ศักดิ์ดี",
    "แก้วประเสริฐ",
    "สิทธิชัย",
    "บัวทอง",
    "กองแก้ว",
    "ดวงดี",
    "สุขประเสริฐ",
    "มณีรัตน์",
    "ศรีทอง",
    "นิลวงศ์",
    "ภูมิโคราช",
    "ด่านกลาง",
    "ปากช่องดี",
    "ลำตะคอง",
    "มูลสาร",
    "โคกกรวด",
    "หนองระเวียง",
    "พิมายกุล",
    "สีคิ้วงาม",
    "ขามทะเล",
)

POSITIONS: dict[str, tuple[str, ...]] = {
    "executive": ("ผู้บริหาร",),
    "head": ("หัวหน้าฝ่ายบริหารงานทั่วไป", "ผู้อำนวยการกอง", "หัวหน้างาน"),
    "clerk": ("เจ้าพนักงานธุรการ", "เจ้าพนักงานธุรการชำนาญงาน"),
    "officer": (
        "นักจัดการงานทั่วไป",
        "นักวิเคราะห์นโยบายและแผน",
        "นักวิชาการเงินและบัญชี",
        "วิศวกรโยธา",
        "นักวิชาการศึกษา",
        "นักวิชาการสาธารณสุข",
    ),
    "auditor": ("นักวิชาการตรวจสอบภายใน",),
    "admin": ("นักวิชาการคอมพิวเตอร์",),
}
