"""Which level of the DICOM information model a stored attribute describes.

QIDO-RS `includefield=all` returns "all available attributes" of the level
searched (PS3.18 10.6.3.3), so a study answer holds the patient's and the
study's attributes, not those of the instance its values were read from. The
levels follow the modules of the PS3.3 IODs: Patient and Clinical Trial
Subject (C.7.1), General Study, Patient Study and Clinical Trial Study (C.7.2),
and General Series, Clinical Trial Series (C.7.3), Frame of Reference and
General Equipment, which the information model relates to the series.
Everything else, private attributes included, is the instance's.
"""

from __future__ import annotations

from pydicom.datadict import tag_for_keyword

from pacsbox.pacs.search.attributes import ATTRIBUTES
from pacsbox.pacs.store.ids import Level

__all__ = ["level_of"]

_PATIENT = """
    PatientName PatientID IssuerOfPatientID IssuerOfPatientIDQualifiersSequence TypeOfPatientID PatientBirthDate
    PatientBirthTime PatientBirthDateInAlternativeCalendar PatientDeathDateInAlternativeCalendar
    PatientAlternativeCalendar PatientSex ReferencedPatientPhotoSequence QualityControlSubject ReferencedPatientSequence
    OtherPatientIDs OtherPatientIDsSequence OtherPatientNames PatientBirthName PatientMotherBirthName
    MedicalRecordLocator EthnicGroup EthnicGroupCodeSequence PatientComments PatientSpeciesDescription
    PatientSpeciesCodeSequence PatientBreedDescription PatientBreedCodeSequence BreedRegistrationSequence
    StrainDescription StrainNomenclature StrainCodeSequence StrainAdditionalInformation StrainStockSequence
    GeneticModificationsSequence ResponsiblePerson ResponsiblePersonRole ResponsibleOrganization PatientIdentityRemoved
    DeidentificationMethod DeidentificationMethodCodeSequence SourcePatientGroupIdentificationSequence
    GroupOfPatientsIdentificationSequence PatientAddress PatientTelephoneNumbers PatientTelecomInformation
    PatientReligiousPreference MilitaryRank BranchOfService CountryOfResidence RegionOfResidence
    ClinicalTrialSponsorName ClinicalTrialProtocolID ClinicalTrialProtocolName ClinicalTrialSiteID
    ClinicalTrialSiteName ClinicalTrialSubjectID ClinicalTrialSubjectReadingID
    ClinicalTrialProtocolEthicsCommitteeName ClinicalTrialProtocolEthicsCommitteeApprovalNumber
"""
_STUDY = """
    StudyInstanceUID StudyDate StudyTime ReferringPhysicianName ReferringPhysicianIdentificationSequence
    ConsultingPhysicianName ConsultingPhysicianIdentificationSequence StudyID AccessionNumber
    IssuerOfAccessionNumberSequence StudyDescription PhysiciansOfRecord PhysiciansOfRecordIdentificationSequence
    NameOfPhysiciansReadingStudy PhysiciansReadingStudyIdentificationSequence RequestingServiceCodeSequence
    ReferencedStudySequence ProcedureCodeSequence ReasonForPerformedProcedureCodeSequence
    AdmittingDiagnosesDescription AdmittingDiagnosesCodeSequence PatientAge PatientSize PatientWeight
    PatientBodyMassIndex MeasuredAPDimension MeasuredLateralDimension PatientSizeCodeSequence MedicalAlerts Allergies
    SmokingStatus PregnancyStatus LastMenstrualDate PatientState Occupation AdditionalPatientHistory AdmissionID
    IssuerOfAdmissionIDSequence ServiceEpisodeID IssuerOfServiceEpisodeIDSequence ServiceEpisodeDescription
    PatientSexNeutered ReasonForVisit ReasonForVisitCodeSequence ClinicalTrialTimePointID
    ClinicalTrialTimePointDescription LongitudinalTemporalOffsetFromEvent LongitudinalTemporalEventType
    ConsentForClinicalTrialUseSequence OtherStudyNumbers StudyComments
"""
_SERIES = """
    SeriesInstanceUID SeriesNumber Modality Laterality SeriesDate SeriesTime PerformingPhysicianName
    PerformingPhysicianIdentificationSequence ProtocolName SeriesDescription SeriesDescriptionCodeSequence
    OperatorsName OperatorIdentificationSequence ReferencedPerformedProcedureStepSequence RelatedSeriesSequence
    BodyPartExamined PatientPosition SmallestPixelValueInSeries LargestPixelValueInSeries RequestAttributesSequence
    PerformedProcedureStepID PerformedProcedureStepStartDate PerformedProcedureStepStartTime
    PerformedProcedureStepEndDate PerformedProcedureStepEndTime PerformedProcedureStepDescription
    PerformedProtocolCodeSequence CommentsOnThePerformedProcedureStep AnatomicalOrientationType
    ClinicalTrialCoordinatingCenterName ClinicalTrialSeriesID ClinicalTrialSeriesDescription FrameOfReferenceUID
    PositionReferenceIndicator Manufacturer InstitutionName InstitutionAddress StationName InstitutionalDepartmentName
    ManufacturerModelName DeviceSerialNumber SoftwareVersions SpatialResolution DateOfLastCalibration
    TimeOfLastCalibration
"""


def _levels() -> dict[int, Level]:
    levels = {}
    for level, keywords in ((Level.PATIENT, _PATIENT), (Level.STUDY, _STUDY), (Level.SERIES, _SERIES)):
        for keyword in keywords.split():
            tag = tag_for_keyword(keyword)
            assert tag is not None, keyword
            levels[tag] = level
    return levels | {tag: attribute.level for tag, attribute in ATTRIBUTES.items()}


_LEVELS = _levels()


def level_of(tag: int) -> Level:
    """The level whose entity `tag` describes; the instance for any attribute the modules above do not name."""
    return _LEVELS.get(tag, Level.INSTANCE)
